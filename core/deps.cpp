#include "core/deps.h"

namespace pipelab {

namespace {
using K = ActionKind;

// The backward of (c, m) the schedule holds: B, or I when the backward is split.
Action backward_of(int chunk, int mb, const DepLookup& lk) {
    const Action b{K::B, chunk, mb};
    return lk.has(b) ? b : Action{K::I, chunk, mb};
}
}  // namespace

Dependencies dependencies(const Action& a, const DepLookup& lk) {
    Dependencies d;
    const auto add = [&](Action x, const char* reason) {
        const bool other_rank = x.chunk >= 0 && x.chunk < lk.n_chunks() && lk.rank_of(x.chunk) != lk.rank_of(a.chunk);
        d.items[static_cast<std::size_t>(d.n++)] = {x, other_rank, reason};
    };
    const int c = a.chunk, m = a.microbatch;
    const bool remote_prev = c > 0 && lk.rank_of(c - 1) != lk.rank_of(c);
    const bool remote_next = c + 1 < lk.n_chunks() && lk.rank_of(c + 1) != lk.rank_of(c);
    switch (a.kind) {
    case K::F:
        if (c == 0) break;
        if (remote_prev && lk.lowered())
            add({K::RECV_F, c, m}, "its input has not arrived");
        else
            add({K::F, c - 1, m}, "the previous chunk's forward has not run");
        break;
    case K::R: add({K::F, c, m}, "its forward has not run"); break;
    case K::B:
    case K::I: {
        const Action r{K::R, c, m};
        if (lk.has(r))
            add(r, "its recompute has not run");
        else
            add({K::F, c, m}, "its forward has not run");
        if (c + 1 >= lk.n_chunks()) break;
        if (remote_next && lk.lowered())
            add({K::RECV_B, c, m}, "its output gradient has not arrived");
        else
            add(backward_of(c + 1, m, lk), "the next chunk's backward has not run");
        break;
    }
    case K::W: add({K::I, c, m}, "its input gradient (I) has not run"); break;
    case K::SEND_F: add({K::F, c, m}, "the forward it sends has not run"); break;
    case K::SEND_B: add(backward_of(c, m, lk), "the backward it sends has not run"); break;
    case K::RECV_F:
    case K::RECV_B: add(comm_peer(a), "its send has not run"); break;
    case K::NUM_KINDS: break;
    }
    return d;
}

ScheduleIndex::ScheduleIndex(const Schedule& s) : m_s(s) {
    m_pos.assign(static_cast<std::size_t>(kNumActionKinds) * static_cast<std::size_t>(s.n_chunks()) *
                     static_cast<std::size_t>(std::max(s.n_microbatches, 0)),
                 kNone);
    for (std::size_t r = 0; r < s.ranks.size(); ++r) {
        const auto& row = s.ranks[r];
        for (std::size_t i = 0; i < row.size(); ++i) {
            const Action& a = row[i];
            if (!in_range(a)) continue;
            m_lowered = m_lowered || is_comm(a.kind);
            int& p = m_pos[slot(a)];
            if (p != kNone) {
                if (m_duplicate.first < 0) m_duplicate = {static_cast<int>(r), static_cast<int>(i)};
                continue;
            }
            p = static_cast<int>(i);
        }
    }
}

int ScheduleIndex::position(const Action& a) const { return in_range(a) ? m_pos[slot(a)] : kNone; }

}  // namespace pipelab
