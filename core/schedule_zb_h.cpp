// ZB-H1 / ZB-H2 as the zero-bubble repo's scheduler orders them
// (sail-sg/zero-bubble-pipeline-parallelism, megatron/core/pipeline_parallel/zerobubble/
// scheduler/zb.py, Graph.manual_order + initial_solution): a greedy over simulated time
// with per-stage F/B/W costs, a communication cost and a memory limit, run in 8 variants;
// the fastest wins and each stage runs its actions in order of completion time. Our I is
// its B. Parameters are those its runtime uses before any profiling.
#include "core/schedule_gen.h"
#include "core/schedule_gen_detail.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace pipelab {

namespace {
constexpr double kCost = 1000.0;  // F = B = W, as the runtime's first call
constexpr double kComm = 1.0;

struct Variant {
    bool allow_bubble_before_first_b, prioritize_b, no_bubble_greedy;
};

// One greedy pass. Node ids: type * (p*m) + stage * m + mb, type 0 = F, 1 = I, 2 = W.
// Memory in units of one forward's activations: F +1, I 0, W -1.
class ManualOrder {
public:
    ManualOrder(int p, int m, int max_mem) : m_p(p), m_m(m), m_max(max_mem) {
        const auto P = static_cast<std::size_t>(p);
        f.assign(P, 0), b = f, w = f, mem = f;
        e.assign(P, 0.0), bubble = e;
        t.assign(static_cast<std::size_t>(3 * p * m), 0.0);
    }

    // Returns the best time (the peer's measure) and leaves completion times in t.
    double run(const Variant& var) {
        const int p = m_p, nmb = m_m;
        for (int i = 0; i < nmb; ++i) {
            if (i == 0) {
                first_microbatch(var);
                continue;
            }
            std::vector<int> f_required(static_cast<std::size_t>(p), 0);
            for (int j = 0; j < p; ++j) {
                if (f[j] >= nmb) continue;
                if (j + 1 < p && f[j] >= f[j + 1] + 2 && var.prioritize_b) {
                    const double next_plus_fw = e[j + 1] + kCost + kCost + kComm;
                    if (e[j] >= next_plus_fw) continue;
                    int mem_with_w = mem[j] + 1;
                    double w_cost = 0;
                    int w_cnt = 0;
                    while (mem_with_w > m_max && w[j] + w_cnt < b[j]) {
                        w_cost += kCost;
                        mem_with_w -= 1;
                        ++w_cnt;
                    }
                    if (e[j] + kCost + w_cost <= next_plus_fw) {
                        f_required[j] = 1;
                        continue;
                    }
                    if (next_plus_fw - e[j] <= max_bubble() - bubble[j]) continue;
                }
                f_required[j] = 1;
            }
            for (int j = p - 2; j >= 0; --j) f_required[j] = std::min(f_required[j], f_required[j + 1]);
            for (int j = 0; j < p; ++j) {
                if (f_required[j] == 0) continue;
                while (mem[j] + 1 > m_max) {
                    if (w[j] >= b[j]) throw std::runtime_error("cannot fit memory");
                    put(j, 2);
                }
                if (j > 0) fill_weights(j, t[id(0, j - 1, f[j])] + kComm, var);
                put(j, 0);
            }
            for (int j = p - 1; j >= 0; --j) {
                // I holds no memory of its own (0 <= limit always), so no W is forced here.
                if (j + 1 < p) fill_weights(j, t[id(1, j + 1, i)] + kComm, var);
                if (j == 0 && f[j] == nmb)
                    while (w[j] < b[j]) put(j, 2);
                put(j, 1);
            }
        }
        for (int j = 0; j < p; ++j)
            while (w[j] < nmb) put(j, 2);
        double best = 0;
        for (int j = 0; j < p; ++j) best = std::max(best, t[id(2, j, nmb - 1)] - t[id(0, j, 0)] + kCost);
        return best;
    }

    double completion(int type, int stage, int mb) const { return t[id(type, stage, mb)]; }

private:
    std::size_t id(int type, int stage, int mb) const {
        return static_cast<std::size_t>(type * m_p * m_m + stage * m_m + mb);
    }
    double max_bubble() const { return *std::max_element(bubble.begin(), bubble.end()); }

    void put(int j, int type) {
        const int mb = type == 0 ? f[j] : type == 1 ? b[j] : w[j];
        double end = e[j] + kCost;
        const double no_bubble = end;
        if (j > 0 && type == 0) end = std::max(end, t[id(0, j - 1, mb)] + kComm + kCost);
        if (j < m_p - 1 && type == 1) end = std::max(end, t[id(1, j + 1, mb)] + kComm + kCost);
        if (f[j] > 0) bubble[j] += end - no_bubble;
        e[j] = end;
        t[id(type, j, mb)] = end;
        mem[j] += type == 0 ? 1 : type == 1 ? 0 : -1;
        (type == 0 ? f : type == 1 ? b : w)[j] += 1;
    }

    // Before an action that waits for `ready`, run pending Ws that fit in the wait, and
    // one more when the wait is short enough (or always, per variant).
    void fill_weights(int j, double ready, const Variant& var) {
        while (w[j] < b[j] && e[j] + kCost <= ready) put(j, 2);
        if (w[j] < b[j] && e[j] < ready) {
            if (ready - e[j] <= max_bubble() - bubble[j]) {
                if (var.no_bubble_greedy) put(j, 2);
            } else {
                put(j, 2);
            }
        }
    }

    // Microbatch 0: a forward on every stage, then as many extra forwards per stage as fit
    // before its first backward can arrive, then the backwards up the pipeline.
    void first_microbatch(const Variant& var) {
        const int p = m_p, nmb = m_m;
        for (int j = 0; j < p; ++j) put(j, 0);
        std::vector<int> f_required(static_cast<std::size_t>(p), 0);
        double last_t = 0;
        for (int j = p - 1; j >= 0; --j) {
            if (j == p - 1) {
                last_t = t[id(0, j, 0)] + kCost;
                continue;
            }
            int mj = mem[j];
            double cost = e[j];
            while (true) {
                if (f[j] + f_required[j] < nmb && mj + 1 <= m_max) {
                    if (var.allow_bubble_before_first_b) {
                        if (cost + kCost > last_t + kComm) break;
                    } else if (cost >= last_t + kComm) {
                        break;
                    }
                    mj += 1;
                    cost += kCost;
                    ++f_required[j];
                } else {
                    break;
                }
            }
            last_t = std::max(cost, last_t + kComm) + kCost;
        }
        for (int j = 0; j < p; ++j)
            while (j > 0 && f_required[j] > 0 && f_required[j] >= f_required[j - 1] && f[j] + f_required[j] < nmb)
                --f_required[j];
        for (int j = 0; j < p; ++j)
            for (int k = 0; k < f_required[j]; ++k) put(j, 0);
        for (int j = p - 1; j >= 0; --j) put(j, 1);
    }

    int m_p, m_m, m_max;
    std::vector<int> f, b, w, mem;
    std::vector<double> e, bubble, t;
};
}  // namespace

Schedule zb_h_order(int p, int m, int mem_factor) {
    Schedule s = detail::empty_schedule(mem_factor == 1 ? "zb-h1" : "zb-h2", p, m, looped_chunk_ranks(p, 1));
    std::optional<ManualOrder> best;
    double best_time = 0;
    for (bool allow : {true, false})
        for (bool prioritize : {true, false})
            for (bool greedy : {true, false}) {
                ManualOrder run(p, m, mem_factor * p);
                const double time = run.run({allow, prioritize, greedy});
                if (!best || time < best_time) best = std::move(run), best_time = time;
            }
    for (int j = 0; j < p; ++j) {
        std::vector<Action> row;
        for (int type = 0; type < 3; ++type)
            for (int mb = 0; mb < m; ++mb)
                row.push_back({type == 0 ? ActionKind::F : type == 1 ? ActionKind::I : ActionKind::W, j, mb});
        const auto type_of = [](const Action& a) {
            return a.kind == ActionKind::F ? 0 : a.kind == ActionKind::I ? 1 : 2;
        };
        std::stable_sort(row.begin(), row.end(), [&](const Action& x, const Action& y) {
            return best->completion(type_of(x), j, x.microbatch) < best->completion(type_of(y), j, y.microbatch);
        });
        s.ranks[static_cast<std::size_t>(j)] = std::move(row);
    }
    return s;
}

}  // namespace pipelab
