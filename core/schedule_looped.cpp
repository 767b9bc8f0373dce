// Orders over the looped placement (chunk c on rank c mod p): interleaved 1F1B, its
// zero-bubble variant and looped BFS, each as PyTorch's torch.distributed.pipelining
// orders it (ScheduleInterleaved1F1B, ScheduleInterleavedZeroBubble, ScheduleLoopedBFS).
#include "core/schedule_gen.h"
#include "core/schedule_gen_detail.h"

#include <algorithm>
#include <functional>

namespace pipelab {

namespace {
// One rank of a looped 1F1B: `warmup` forwards, then one forward per backward, then the
// remaining backwards. Forward op k runs chunk fwd_chunk(k), the backward of op k runs
// bwd_chunk(k); each chunk numbers its microbatches in the order it meets them. With
// zero_bubble the backward is I and, once the rank is `lag` backwards into its steady
// state, every I is followed by the W of the oldest backward without one.
std::vector<Action> looped_1f1b_row(int total, int warmup, const std::function<int(int)>& fwd_chunk,
                                    const std::function<int(int)>& bwd_chunk, bool zero_bubble, int lag, int n_chunks) {
    std::vector<Action> row;
    std::vector<int> nf(static_cast<std::size_t>(n_chunks), 0), nb(nf), nw(nf);
    std::vector<int> backward_ops;
    std::size_t w_done = 0;
    const ActionKind back = zero_bubble ? ActionKind::I : ActionKind::B;
    const auto weight = [&] {
        const int c = bwd_chunk(backward_ops[w_done++]);
        row.push_back({ActionKind::W, c, nw[c]++});
    };
    for (int op = 0; op < total + warmup; ++op) {
        if (op < total) {  // warm-up and steady state run a forward
            const int c = fwd_chunk(op);
            row.push_back({ActionKind::F, c, nf[c]++});
            if (op < warmup) continue;
        }
        const int c = bwd_chunk(op);
        row.push_back({back, c, nb[c]++});
        backward_ops.push_back(op);
        if (zero_bubble && op - warmup >= lag) weight();
    }
    while (zero_bubble && w_done < backward_ops.size()) weight();
    return row;
}

// Interleaved warm-up: the last rank runs (v-1) rounds ahead, each rank upstream `factor`
// more; never more than all its forwards.
int looped_warmup(int r, int v, int per_round, int p, int m, int factor) {
    return std::min((v - 1) * per_round + factor * (p - 1 - r), m * v);
}

Schedule looped_1f1b(std::string name, int p, int m, int v, bool zero_bubble) {
    Schedule s = detail::empty_schedule(std::move(name), p, m, looped_chunk_ranks(p, v));
    const int per_round = m / detail::interleaved_rounds(p, m);
    const int total = m * v;
    for (int r = 0; r < p; ++r) {
        const int warmup = looped_warmup(r, v, per_round, p, m, zero_bubble ? 1 : 2);
        const auto fwd = [&](int op) { return ((op / per_round) % v) * p + r; };
        const auto bwd = [&](int op) { return (v - 1 - ((op - warmup) / per_round) % v) * p + r; };
        s.ranks[static_cast<std::size_t>(r)] = looped_1f1b_row(total, warmup, fwd, bwd, zero_bubble, r, p * v);
    }
    return s;
}
}  // namespace

Schedule interleaved_order(int p, int m, int v) { return looped_1f1b("interleaved", p, m, v, false); }

Schedule interleaved_zb_order(int p, int m, int v) { return looped_1f1b("interleaved-zb", p, m, v, true); }

Schedule looped_bfs_order(int p, int m, int v) {
    Schedule s = detail::empty_schedule("bfs", p, m, looped_chunk_ranks(p, v));
    for (int r = 0; r < p; ++r) {
        auto& row = s.ranks[static_cast<std::size_t>(r)];
        for (int j = 0; j < v; ++j)
            for (int mb = 0; mb < m; ++mb) row.push_back({ActionKind::F, j * p + r, mb});
        for (int j = v - 1; j >= 0; --j)
            for (int mb = m - 1; mb >= 0; --mb) row.push_back({ActionKind::B, j * p + r, mb});
    }
    return s;
}

}  // namespace pipelab
