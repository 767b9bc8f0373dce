#include "core/validate.h"

#include <memory>
#include <vector>

#include "core/deps.h"
#include "core/walk.h"

namespace pipelab {

namespace {

constexpr int kNone = ScheduleIndex::kNone;

class Validator {
public:
    explicit Validator(const Schedule& s) : m_s(s) {}

    std::optional<ScheduleError> run() {
        if (auto e = check_shape()) return e;
        if (auto e = check_actions()) return e;
        if (auto e = check_completeness()) return e;
        if (auto e = check_local_order()) return e;
        return check_progress();
    }

private:
    ScheduleError error(int rank, int index, std::string what) const {
        ScheduleError e;
        e.rank = rank;
        e.index = index;
        if (rank >= 0) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(rank)];
            const std::string act = index >= 0 && index < static_cast<int>(row.size())
                                        ? to_string(row[static_cast<std::size_t>(index)])
                                        : std::string("end of list");
            e.message =
                "rank " + std::to_string(rank) + ", action #" + std::to_string(index) + " (" + act + "): " + what;
            e.grid = format_schedule(m_s, rank, index);
        } else {
            e.message = what;
        }
        return e;
    }

    bool remote(int from, int to) const {
        return to >= 0 && to < m_s.n_chunks() && m_s.rank_of(from) != m_s.rank_of(to);
    }

    std::optional<ScheduleError> check_shape() {
        if (m_s.n_ranks < 1) return error(-1, -1, "schedule has no ranks");
        if (m_s.n_microbatches < 1) return error(-1, -1, "schedule has no microbatches");
        if (m_s.chunk_rank.empty()) return error(-1, -1, "schedule has no chunks");
        if (static_cast<int>(m_s.ranks.size()) != m_s.n_ranks)
            return error(-1, -1,
                         "schedule has " + std::to_string(m_s.ranks.size()) + " action lists for " +
                             std::to_string(m_s.n_ranks) + " ranks");
        for (int c = 0; c < m_s.n_chunks(); ++c)
            if (m_s.rank_of(c) < 0 || m_s.rank_of(c) >= m_s.n_ranks)
                return error(-1, -1,
                             "chunk " + std::to_string(c) + " is mapped to rank " + std::to_string(m_s.rank_of(c)) +
                                 ", not in 0.." + std::to_string(m_s.n_ranks - 1));
        m_index = std::make_unique<ScheduleIndex>(m_s);
        return std::nullopt;
    }

    // Each action: in range, on the right rank, a real boundary for comms, not duplicated.
    std::optional<ScheduleError> check_actions() {
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            for (int i = 0; i < static_cast<int>(row.size()); ++i) {
                const Action& a = row[static_cast<std::size_t>(i)];
                if (a.kind >= ActionKind::NUM_KINDS) return error(r, i, "unknown action kind");
                if (a.chunk < 0 || a.chunk >= m_s.n_chunks())
                    return error(
                        r, i, "chunk " + std::to_string(a.chunk) + " not in 0.." + std::to_string(m_s.n_chunks() - 1));
                if (a.microbatch < 0 || a.microbatch >= m_s.n_microbatches)
                    return error(r, i,
                                 "microbatch " + std::to_string(a.microbatch) + " not in 0.." +
                                     std::to_string(m_s.n_microbatches - 1));
                if (m_s.rank_of(a.chunk) != r)
                    return error(
                        r, i,
                        "chunk " + std::to_string(a.chunk) + " lives on rank " + std::to_string(m_s.rank_of(a.chunk)));
                const int c = a.chunk;
                switch (a.kind) {
                case ActionKind::SEND_F:
                case ActionKind::RECV_B:
                    if (!remote(c, c + 1))
                        return error(r, i,
                                     "no rank boundary after chunk " + std::to_string(c) + " to communicate across");
                    break;
                case ActionKind::RECV_F:
                case ActionKind::SEND_B:
                    if (!remote(c, c - 1))
                        return error(r, i,
                                     "no rank boundary before chunk " + std::to_string(c) + " to communicate across");
                    break;
                default: break;
                }
                if (m_index->duplicate() == std::pair{r, i})
                    return error(r, i,
                                 "duplicate " + std::string(to_string(a.kind)) + ": already at #" +
                                     std::to_string(m_index->position(a)));
            }
        }
        return std::nullopt;
    }

    std::optional<ScheduleError> check_completeness() {
        for (int c = 0; c < m_s.n_chunks(); ++c) {
            const int r = m_s.rank_of(c);
            const int end = static_cast<int>(m_s.ranks[static_cast<std::size_t>(r)].size());
            for (int mb = 0; mb < m_s.n_microbatches; ++mb) {
                const std::string who = "chunk " + std::to_string(c) + " microbatch " + std::to_string(mb);
                const auto has = [&](ActionKind k) { return pos(k, c, mb) != kNone; };
                if (!has(ActionKind::F)) return error(r, end, who + " has no forward (F)");
                const bool b = has(ActionKind::B), i = has(ActionKind::I), w = has(ActionKind::W);
                if (b && (i || w))
                    return error(r, pos(w ? ActionKind::W : ActionKind::I, c, mb),
                                 who + " has both a full backward B and a split I/W");
                if (w && !i) return error(r, pos(ActionKind::W, c, mb), who + " has W but no I");
                if (!b && !i) return error(r, end, who + " has no backward (B, or I then W)");
                if (i && !w) return error(r, end, who + " has I but no W");
                // Each boundary crossing needs its send and its receive.
                if (remote(c, c + 1)) {
                    // A receive waiting for a send that never comes is reported at the receive.
                    const int rf = pos(ActionKind::RECV_F, c + 1, mb);
                    if (!has(ActionKind::SEND_F) && rf != kNone)
                        return error(m_s.rank_of(c + 1), rf,
                                     "receive with no matching send: rank " + std::to_string(r) + " never runs " +
                                         to_string(Action{ActionKind::SEND_F, c, mb}));
                    if (!has(ActionKind::SEND_F))
                        return error(
                            r, end,
                            who + " never sends its output (SEND_F) to rank " + std::to_string(m_s.rank_of(c + 1)));
                    if (!has(ActionKind::RECV_B))
                        return error(r, end,
                                     who +
                                         " never receives its output gradient "
                                         "(RECV_B) from rank " +
                                         std::to_string(m_s.rank_of(c + 1)));
                }
                if (remote(c, c - 1)) {
                    const int rb = pos(ActionKind::RECV_B, c - 1, mb);
                    if (!has(ActionKind::SEND_B) && rb != kNone)
                        return error(m_s.rank_of(c - 1), rb,
                                     "receive with no matching send: rank " + std::to_string(r) + " never runs " +
                                         to_string(Action{ActionKind::SEND_B, c, mb}));
                    if (!has(ActionKind::RECV_F))
                        return error(
                            r, end,
                            who + " never receives its input (RECV_F) from rank " + std::to_string(m_s.rank_of(c - 1)));
                    if (!has(ActionKind::SEND_B))
                        return error(r, end,
                                     who +
                                         " never sends its input gradient (SEND_B) to "
                                         "rank " +
                                         std::to_string(m_s.rank_of(c - 1)));
                }
            }
        }
        return std::nullopt;
    }

    // On one rank, each action after what it consumes (core/deps.h says what that is).
    std::optional<ScheduleError> check_local_order() {
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            for (int i = 0; i < static_cast<int>(row.size()); ++i) {
                const Action& a = row[static_cast<std::size_t>(i)];
                if (a.kind == ActionKind::RECV_F || a.kind == ActionKind::RECV_B) continue;  // check_progress
                for (const Dependency& d : dependencies(a, *m_index)) {
                    if (d.message) continue;  // a compute-only list: completeness asks for the messages
                    const int p = m_index->position(d.action);
                    if (p == kNone || p > i)
                        // Phrased for a person moving actions: "2B5 cannot come before 2F5: its
                        // forward has not run"; the app's schedule editor shows the same words.
                        return error(r, i,
                                     p == kNone ? to_string(a) + " needs " + to_string(d.action) + ", which rank " +
                                                      std::to_string(r) + " never runs: " + d.reason
                                                : to_string(a) + " cannot come before " + to_string(d.action) + ": " +
                                                      d.reason + " (" + to_string(d.action) + " is at #" +
                                                      std::to_string(p) + ")");
                }
            }
        }
        return std::nullopt;
    }

    // The send a receive waits for: (rank, index).
    std::pair<int, int> matching_send(const Action& a) const {
        const Action send = comm_peer(a);
        return {m_s.rank_of(send.chunk), pos(send.kind, send.chunk, send.microbatch)};
    }

    // Every recv has its send; then run all ranks in order to prove no circular wait.
    std::optional<ScheduleError> check_progress() {
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            for (int i = 0; i < static_cast<int>(row.size()); ++i) {
                const Action& a = row[static_cast<std::size_t>(i)];
                if (a.kind != ActionKind::RECV_F && a.kind != ActionKind::RECV_B) continue;
                if (matching_send(a).second == kNone)
                    return error(r, i,
                                 "receive with no matching send on rank " + std::to_string(matching_send(a).first));
            }
        }
        // Run every rank in order (sends do not block, receives wait for their send).
        const WalkResult run = walk_schedule(m_s, WalkTiming{});
        if (run.complete) return std::nullopt;
        std::string waits;
        int first = -1;
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            const int at = run.stuck_at[static_cast<std::size_t>(r)];
            if (at >= static_cast<int>(row.size())) continue;
            if (first < 0) first = r;
            const Action& a = row[static_cast<std::size_t>(at)];
            waits += "\n  rank " + std::to_string(r) + " at #" + std::to_string(at) + " (" + to_string(a) + ")";
            for (const Dependency& d : dependencies(a, *m_index)) {
                const int src = m_s.rank_of(d.action.chunk),
                          idx = pos(d.action.kind, d.action.chunk, d.action.microbatch);
                if (idx != kNone && idx < run.stuck_at[static_cast<std::size_t>(src)]) continue;  // it ran
                waits += " waits for rank " + std::to_string(src) + "'s " + to_string(d.action) + " (#" +
                         std::to_string(idx) + ")";
                break;
            }
        }
        return error(first, run.stuck_at[static_cast<std::size_t>(first)], "deadlock: circular wait" + waits);
    }

    int pos(ActionKind k, int chunk, int mb) const { return m_index->position({k, chunk, mb}); }

    const Schedule& m_s;
    std::unique_ptr<ScheduleIndex> m_index;
};

}  // namespace

std::optional<ScheduleError> validate_schedule(const Schedule& s) { return Validator(s).run(); }

}  // namespace pipelab
