#include "core/stats.h"

#include "core/memory_rule.h"
#include "core/why_wait.h"

#include <algorithm>
#include <limits>

namespace pipelab {

std::optional<double> bubble_formula(const std::string& schedule, int p, int m, int v) {
    if (p < 1 || m < 1 || v < 1) return std::nullopt;
    if (schedule == "gpipe" || schedule == "1f1b") return double(p - 1) / double(m + p - 1);
    // Megatron's interleaved; PyTorch's rounds (m not a multiple of p) have no closed form.
    if (schedule == "interleaved" && m % p == 0) return double(p - 1) / double(v * m + p - 1);
    return std::nullopt;
}

double zero_bubble_formula(int p, int m, double f, double i, double w) {
    const double bubble = std::max(0.0, (p - 1) * (f + i - w));
    const double work = m * (f + i + w);
    return work + bubble > 0 ? bubble / (work + bubble) : 0.0;
}

namespace {
bool is_zb_h1_like(const std::string& schedule) {
    // "zb" is zb-greedy's name in older traces; the greedy reaches ZB-H1's bubble.
    return schedule == "zb-h1" || schedule == "zb-greedy" || schedule == "zb";
}

std::string formula_text(const std::string& schedule, int p, int m, int v) {
    const auto s = [](int x) { return std::to_string(x); };
    if (schedule == "gpipe" || schedule == "1f1b") return "(p-1)/(m+p-1) = " + s(p - 1) + "/" + s(m + p - 1);
    if (schedule == "interleaved" && p > 0 && m % p == 0)
        return "(p-1)/(v*m+p-1) = " + s(p - 1) + "/" + s(v * m + p - 1);
    if (is_zb_h1_like(schedule)) return "ZB-H1's (p-1)(F+I-W) / (m(F+I+W) + (p-1)(F+I-W)), F, I, W measured means";
    if (schedule == "dualpipev")
        return "no closed form for dualpipev; simulated (DeepSeek's table: (PP/2-1)(F&B+B-3W), PP = 2p stages, "
               "F&B an overlapped forward-backward pair; PipeLab does not overlap them)";
    if (schedule == "zb-h2" || schedule == "zb-v")
        return "no closed form for " + schedule +
               " over the step; simulated (the paper's: none within each rank's "
               "span when F = I = W and m >= 2p; see the span bubble)";
    return "no closed form for " + schedule + "; simulated";
}
}  // namespace

double span_bubble_rate(const Stats& st) {
    double busy = 0, span = 0;
    for (const RankStats& r : st.ranks) {
        busy += r.busy_us;
        span = std::max(span, r.compute_span_us);
    }
    return span > 0 && !st.ranks.empty() ? std::max(0.0, 1.0 - busy / double(st.ranks.size()) / span) : 0.0;
}

Stats compute_stats(const Timeline& tl) {
    Stats st;
    st.schedule = tl.meta.schedule;
    st.stages = tl.meta.stages;
    st.microbatches = tl.meta.microbatches;
    st.chunks = tl.meta.chunks;
    st.step_time_us = tl.step_time_us();
    st.bubble_formula = bubble_formula(st.schedule, st.stages, st.microbatches, st.chunks);
    st.bubble_formula_text = formula_text(st.schedule, st.stages, st.microbatches, st.chunks);

    int n_ranks = tl.meta.stages;
    for (const auto& e : tl.events) n_ranks = std::max(n_ranks, e.rank + 1);
    for (const auto& s : tl.memory) n_ranks = std::max(n_ranks, s.rank + 1);
    st.ranks.resize(static_cast<std::size_t>(std::max(n_ranks, 0)));
    for (int r = 0; r < n_ranks; ++r) st.ranks[r].rank = r;

    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> first(st.ranks.size(), inf), last(st.ranks.size(), -inf);
    std::vector<int> inflight(st.ranks.size(), 0);
    std::vector<double> cfirst(st.ranks.size(), inf), clast(st.ranks.size(), -inf);
    for (const auto& e : tl.events) {
        RankStats& rs = st.ranks[static_cast<std::size_t>(e.rank)];
        first[e.rank] = std::min(first[e.rank], e.start_us);
        last[e.rank] = std::max(last[e.rank], e.end_us);
        if (!is_compute(e.kind)) {
            ++rs.comm_actions;
            continue;
        }
        ++rs.compute_actions;
        cfirst[e.rank] = std::min(cfirst[e.rank], e.start_us);
        clast[e.rank] = std::max(clast[e.rank], e.end_us);
        rs.busy_us += e.duration_us();
        // Events of a rank are in execution order, so a running count gives the peak.
        int& n = inflight[e.rank];
        if (opens_microbatch(e.kind)) rs.peak_inflight_microbatches = std::max(rs.peak_inflight_microbatches, ++n);
        if (closes_microbatch(e.kind)) --n;
    }
    for (const auto& s : tl.memory) {
        RankStats& rs = st.ranks[static_cast<std::size_t>(s.rank)];
        rs.peak_activation_bytes = std::max(rs.peak_activation_bytes, s.activations);
        rs.peak_memory_bytes = std::max(rs.peak_memory_bytes, s.total());
    }

    if (is_zb_h1_like(st.schedule)) {
        double sum[kNumActionKinds] = {};
        int count[kNumActionKinds] = {};
        for (const auto& e : tl.events) {
            sum[static_cast<int>(e.kind)] += e.duration_us();
            ++count[static_cast<int>(e.kind)];
        }
        const auto mean = [&](ActionKind k) {
            const int c = count[static_cast<int>(k)];
            return c ? sum[static_cast<int>(k)] / c : 0.0;
        };
        st.bubble_formula = zero_bubble_formula(st.stages, st.microbatches, mean(ActionKind::F), mean(ActionKind::I),
                                                mean(ActionKind::W));
    }

    double idle_total = 0, busy_total = 0, busy_max = 0;
    for (std::size_t r = 0; r < st.ranks.size(); ++r) {
        RankStats& rs = st.ranks[r];
        rs.idle_us = std::max(0.0, st.step_time_us - rs.busy_us);
        rs.bubble_fraction = st.step_time_us > 0 ? rs.idle_us / st.step_time_us : 0.0;
        if (clast[r] > cfirst[r]) rs.compute_span_us = clast[r] - cfirst[r];
        const double span = last[r] - first[r];
        rs.span_bubble_fraction = span > 0 ? std::max(0.0, 1.0 - rs.busy_us / span) : 0.0;
        idle_total += rs.idle_us;
        busy_total += rs.busy_us;
        busy_max = std::max(busy_max, rs.busy_us);
    }
    if (!st.ranks.empty() && st.step_time_us > 0)
        st.bubble_fraction = idle_total / (double(st.ranks.size()) * st.step_time_us);
    if (busy_total > 0) st.imbalance = busy_max / (busy_total / double(st.ranks.size())) - 1.0;
    const CriticalPath cp = analyse_waits(tl).critical;
    st.critical_compute_us = cp.compute_us;
    st.critical_transfer_us = cp.transfer_us;
    st.critical_other_us = cp.other_us;
    return st;
}

}  // namespace pipelab
