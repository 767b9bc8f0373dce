// Orders over the V placement (rank r holds chunk r and chunk 2p-1-r): PyTorch's
// ScheduleZBVZeroBubble and DeepSeek's DualPipeV.
#include "core/schedule_gen.h"
#include "core/schedule_gen_detail.h"

#include <algorithm>
#include <deque>
#include <map>

namespace pipelab {

Schedule zbv_order(int p, int m) {
    Schedule s = detail::empty_schedule("zb-v", p, m, v_chunk_ranks(p));
    // The order is laid out for max(2p-1, m) microbatches; actions on the padding ones are
    // then dropped, as PyTorch does.
    const int n = std::max(2 * p - 1, m);
    for (int r = 0; r < p; ++r) {
        std::vector<Action> row;
        const int c0 = r, c1 = 2 * p - 1 - r;
        int f0 = 0, f1 = 0, b0 = 0, b1 = 0;
        const auto put = [&](ActionKind k, int c, int mb) { row.push_back({k, c, mb}); };
        for (int i = 0; i < 2 * (p - r) - 1; ++i) put(ActionKind::F, c0, f0++);
        for (int i = 0; i < r; ++i) {
            put(ActionKind::F, c1, f1++);
            put(ActionKind::F, c0, f0++);
        }
        for (int i = 0; i < p - r; ++i) {
            put(ActionKind::F, c1, f1++);
            put(ActionKind::I, c1, b1);
            put(ActionKind::W, c1, b1++);
        }
        while (f1 < f0 || f0 < n) {
            if (f0 < n) put(ActionKind::F, c0, f0++);
            put(ActionKind::I, c0, b0);
            put(ActionKind::W, c0, b0++);
            put(ActionKind::F, c1, f1++);
            put(ActionKind::I, c1, b1);
            put(ActionKind::W, c1, b1++);
        }
        int w0 = b0, w1 = b1;
        for (int i = 0; i < r; ++i) {
            put(ActionKind::I, c0, b0++);
            put(ActionKind::I, c1, b1++);
        }
        for (int i = 0; i < p - r; ++i) {
            put(ActionKind::I, c0, b0++);
            put(ActionKind::W, c0, w0++);
        }
        while (w1 < b1) put(ActionKind::W, c1, w1++);
        while (w0 < b0) put(ActionKind::W, c0, w0++);
        std::erase_if(row, [&](const Action& a) { return a.microbatch >= m; });
        s.ranks[static_cast<std::size_t>(r)] = std::move(row);
    }
    return s;
}

Schedule dualpipev_order(int p, int m) {
    Schedule s = detail::empty_schedule("dualpipev", p, m, v_chunk_ranks(p));
    for (int r = 0; r < p; ++r) {
        auto& row = s.ranks[static_cast<std::size_t>(r)];
        const int c0 = r, c1 = 2 * p - 1 - r;
        // Next microbatch per chunk for forwards and for backwards (B and I share it); the
        // Ws of the Is wait in a FIFO, as DualPipe's WeightGradStore.
        std::map<int, int> next_f, next_b;
        std::deque<Action> weights;
        const auto fwd = [&](int c) { row.push_back({ActionKind::F, c, next_f[c]++}); };
        const auto bwd = [&](int c, bool zb) {
            const int mb = next_b[c]++;
            row.push_back({zb ? ActionKind::I : ActionKind::B, c, mb});
            if (zb) weights.push_back({ActionKind::W, c, mb});
        };
        const auto weight = [&] {
            if (weights.empty()) return;
            row.push_back(weights.front());
            weights.pop_front();
        };
        const auto overlapped = [&](int f_chunk, int b_chunk) {  // DualPipe overlaps them
            fwd(f_chunk);
            bwd(b_chunk, false);
        };
        for (int i = 0; i < 2 * (p - r - 1); ++i) fwd(c0);  // 1: nF0
        for (int i = 0; i < r + 1; ++i) fwd(c0), fwd(c1);   // 2: nF0F1
        for (int i = 0; i < p - r - 1; ++i) {               // 3: nB1W1F1
            bwd(c1, true);
            weight();
            fwd(c1);
        }
        for (int i = 0; i < m - 2 * p + r + 1; ++i) {  // 4: nF0B1F1B0
            if (i == 0 && r == p - 1) {                // the last rank does not overlap its first pair
                fwd(c0);
                bwd(c1, false);
            } else {
                overlapped(c0, c1);
            }
            overlapped(c1, c0);
        }
        for (int i = 0; i < p - r - 1; ++i) {  // 5: nB1F1B0
            bwd(c1, false);
            overlapped(c1, c0);
        }
        bool zb = false;  // 6: nB1B0, the later half split
        const int step6 = r + 1;
        for (int i = 0; i < step6; ++i) {
            if (i == step6 / 2 && r % 2 == 1) zb = true;
            bwd(c1, zb);
            if (i == step6 / 2 && r % 2 == 0) zb = true;
            bwd(c0, zb);
        }
        for (int i = 0; i < p - r - 1; ++i) {  // 7: nWB0
            weight();
            bwd(c0, true);
        }
        while (!weights.empty()) weight();  // 8: nW
    }
    return s;
}

}  // namespace pipelab
