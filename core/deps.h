#pragma once
// Who waits for whom: the one statement of PipeLab's dependency rules. The validator, the
// simulator, the greedy generator and the app's "why does this block wait" all ask here.
//
// Besides the previous action on its rank, an action needs:
//   F(c,m)       its input: RECV_F(c,m) when chunk c-1 is on another rank and the
//                schedule has communication actions; otherwise F(c-1,m) itself
//   R(c,m)       F(c,m), which kept the input it recomputes from
//   B/I(c,m)     F(c,m), or R(c,m) when the schedule recomputes it; and the output
//                gradient: RECV_B(c,m), or the backward (B or I) of (c+1,m)
//   W(c,m)       I(c,m)
//   SEND_F(c,m)  F(c,m);   SEND_B(c,m): the backward (B or I) of (c,m)
//   RECV_F/B     the matching send (core/action.h comm_peer)
// In a compute-only list (no SEND/RECV), a dependency on another rank's action stands
// for a message: it is flagged `message`, and a timed walk adds the transfer time.
#include <array>
#include <cstdint>
#include <vector>

#include "core/schedule.h"

namespace pipelab {

// What the rules need to know about a schedule: which actions it holds (B or I for a
// backward? is there an R?) and whether communication is explicit.
class DepLookup {
public:
    virtual ~DepLookup() = default;
    virtual bool has(const Action& a) const = 0;
    virtual bool lowered() const = 0;  // holds SEND/RECV actions
    virtual int n_chunks() const = 0;
    virtual int rank_of(int chunk) const = 0;
};

struct Dependency {
    Action action;
    bool message = false;     // reaches this rank through a transfer
    const char* reason = "";  // why the action cannot go first without it: "its input has not arrived"
};

struct Dependencies {
    std::array<Dependency, 2> items{};
    int n = 0;
    const Dependency* begin() const { return items.data(); }
    const Dependency* end() const { return items.data() + n; }
};

Dependencies dependencies(const Action& a, const DepLookup& lookup);

// Where every action of a schedule sits: (rank, index on the rank), dense over
// (kind, chunk, microbatch). Also the DepLookup of that schedule.
class ScheduleIndex final : public DepLookup {
public:
    explicit ScheduleIndex(const Schedule& s);
    static constexpr int kNone = -1;

    // Index of the action on its rank, or kNone (also for actions out of range).
    int position(const Action& a) const;
    // Which action of a (kind, chunk, microbatch) triple is recorded twice: the first
    // duplicate found while indexing, as (rank, index), or (-1, -1).
    std::pair<int, int> duplicate() const { return m_duplicate; }

    bool has(const Action& a) const override { return position(a) != kNone; }
    bool lowered() const override { return m_lowered; }
    int n_chunks() const override { return m_s.n_chunks(); }
    int rank_of(int chunk) const override { return m_s.rank_of(chunk); }
    const Schedule& schedule() const { return m_s; }

private:
    std::size_t slot(const Action& a) const {
        return (static_cast<std::size_t>(a.kind) * static_cast<std::size_t>(m_s.n_chunks()) +
                static_cast<std::size_t>(a.chunk)) *
                   static_cast<std::size_t>(m_s.n_microbatches) +
               static_cast<std::size_t>(a.microbatch);
    }
    bool in_range(const Action& a) const {
        return a.kind < ActionKind::NUM_KINDS && a.chunk >= 0 && a.chunk < m_s.n_chunks() && a.microbatch >= 0 &&
               a.microbatch < m_s.n_microbatches;
    }
    const Schedule& m_s;
    std::vector<int> m_pos;
    bool m_lowered = false;
    std::pair<int, int> m_duplicate{-1, -1};
};

}  // namespace pipelab
