#include "core/clock_align.h"

#include <cstdio>

namespace pipelab {

ClockAlignment align_clocks(int n_ranks, const std::vector<ClockPair>& pairs) {
    ClockAlignment out;
    out.shift_us.assign(static_cast<std::size_t>(n_ranks > 0 ? n_ranks : 0), 0.0);
    // Bounds closer than a nanosecond are rounding, not skew.
    constexpr double kSlack = 1e-3;
    bool changed = true;
    for (int round = 0; round <= n_ranks && changed; ++round) {
        changed = false;
        for (const ClockPair& p : pairs) {
            if (p.send_rank < 0 || p.recv_rank < 0 || p.send_rank >= n_ranks || p.recv_rank >= n_ranks) continue;
            const double need = out.shift_us[p.send_rank] + p.send_start_us - p.recv_end_us;
            if (out.shift_us[p.recv_rank] < need - kSlack) {
                out.shift_us[p.recv_rank] = need;
                changed = true;
            }
        }
    }
    if (!changed) return out;
    // Still moving after n rounds: a cycle of bounds that cannot all hold.
    const ClockPair* worst = nullptr;
    double worst_gap = 0;
    for (const ClockPair& p : pairs) {
        const double gap = p.send_start_us - p.recv_end_us;
        if (worst == nullptr || gap > worst_gap) worst = &p, worst_gap = gap;
    }
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        "the transfers contradict each other (no clock shift makes every receive end after its send "
        "starts; worst: rank %d's receive ends %.1f µs before rank %d's send starts); clocks left as recorded",
        worst->recv_rank, worst_gap, worst->send_rank);
    out.problem = buf;
    out.shift_us.assign(out.shift_us.size(), 0.0);
    return out;
}

}  // namespace pipelab
