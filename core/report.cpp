#include "core/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace pipelab {

namespace {
std::string fmt(const char* f, double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, x);
    return buf;
}
char lower(char c) { return static_cast<char>(c - 'A' + 'a'); }
}  // namespace

std::string ascii_gantt(const Timeline& tl, int width) {
    width = std::max(width, 10);
    const double step = tl.step_time_us();
    int n_ranks = tl.meta.stages;
    for (const auto& e : tl.events) n_ranks = std::max(n_ranks, e.rank + 1);
    if (step <= 0 || n_ranks == 0) return "(empty timeline)\n";
    const double col_us = step / width;

    // Pass 1 fills blocks and remembers which event owns each column; pass 2 writes a
    // label only where its event owns every column it covers, so neighbours never
    // chop each other's numbers.
    const auto W = static_cast<std::size_t>(width);
    std::vector<std::string> rows(static_cast<std::size_t>(n_ranks), std::string(W, '.'));
    std::vector<std::vector<std::size_t>> owner(rows.size(), std::vector<std::size_t>(W, SIZE_MAX));
    const auto columns = [&](const TimelineEvent& e) {
        int a = static_cast<int>(std::floor(e.start_us / col_us + 1e-9));
        int b = static_cast<int>(std::ceil(e.end_us / col_us - 1e-9));
        a = std::clamp(a, 0, width - 1);
        return std::pair<int, int>{a, std::clamp(b, a + 1, width)};
    };
    for (std::size_t i = 0; i < tl.events.size(); ++i) {
        const TimelineEvent& e = tl.events[i];
        if (!is_compute(e.kind)) continue;
        const auto [a, b] = columns(e);
        const char letter = to_string(e.kind)[0];
        for (int c = a; c < b; ++c) {
            rows[e.rank][c] = c == a ? letter : lower(letter);
            owner[e.rank][c] = i;
        }
    }
    for (std::size_t i = 0; i < tl.events.size(); ++i) {
        const TimelineEvent& e = tl.events[i];
        if (!is_compute(e.kind)) continue;
        const auto [a, b] = columns(e);
        std::string label = to_string(e.kind)[0] + std::to_string(e.microbatch);
        if (tl.meta.chunks > 1) label += ":" + std::to_string(e.chunk);
        if (b - a < static_cast<int>(label.size())) continue;
        bool mine = true;
        for (int c = a; c < a + static_cast<int>(label.size()); ++c) mine = mine && owner[e.rank][c] == i;
        if (mine) rows[e.rank].replace(static_cast<std::size_t>(a), label.size(), label);
    }
    std::string out = "time 0 .. " + fmt("%.3f", step / 1000.0) + " ms, one column = " + fmt("%.1f", col_us) + " us\n";
    for (int r = 0; r < n_ranks; ++r) out += "rank " + std::to_string(r) + (r < 10 ? "  |" : " |") + rows[r] + "|\n";
    out += "legend: F forward, B backward, I input-grad, W weight-grad, number = microbatch";
    out += tl.meta.chunks > 1 ? ":chunk" : "";
    out += ", . idle (bubble)\n";
    return out;
}

std::string text_report(const Stats& st, const std::string& backend) {
    std::string out;
    out += "schedule " + st.schedule + ", p=" + std::to_string(st.stages) +
           " stages, m=" + std::to_string(st.microbatches) + " microbatches, v=" + std::to_string(st.chunks) +
           " chunk(s) per stage, backend " + backend + "\n";
    out += "step time     " + fmt("%.3f ms", st.step_time_us / 1000.0) + "\n";
    out += "bubble        " + fmt("%.2f %% measured", 100.0 * st.bubble_fraction);
    if (st.bubble_formula)
        out += ", " + fmt("%.2f %% formula ", 100.0 * *st.bubble_formula) + st.bubble_formula_text;
    else
        out += " (" + st.bubble_formula_text + ")";
    out += "\nimbalance     " + fmt("%.1f %% (slowest stage's busy time over the mean)", 100.0 * st.imbalance) + "\n";
    out += "critical path " + fmt("%.3f ms compute, ", st.critical_compute_us / 1000) +
           fmt("%.3f ms transfers, ", st.critical_transfer_us / 1000) +
           fmt("%.3f ms other (communication overhead, gaps)", st.critical_other_us / 1000) + "\n";
    out += "rank   busy ms   idle ms  bubble  span-bubble  peak in-flight  peak act MiB  peak mem MiB\n";
    for (const RankStats& r : st.ranks) {
        char line[200];
        std::snprintf(line, sizeof line, "%4d %9.3f %9.3f %6.1f%% %11.1f%% %15d %13.2f %13.2f\n", r.rank,
                      r.busy_us / 1000.0, r.idle_us / 1000.0, 100.0 * r.bubble_fraction, 100.0 * r.span_bubble_fraction,
                      r.peak_inflight_microbatches, double(r.peak_activation_bytes) / (1 << 20),
                      double(r.peak_memory_bytes) / (1 << 20));
        out += line;
    }
    return out;
}

nlohmann::json stats_to_json(const Stats& st) {
    nlohmann::json ranks = nlohmann::json::array();
    for (const RankStats& r : st.ranks) {
        ranks.push_back({{"rank", r.rank},
                         {"busy_us", r.busy_us},
                         {"idle_us", r.idle_us},
                         {"bubble_fraction", r.bubble_fraction},
                         {"span_bubble_fraction", r.span_bubble_fraction},
                         {"peak_inflight_microbatches", r.peak_inflight_microbatches},
                         {"peak_activation_bytes", r.peak_activation_bytes},
                         {"peak_memory_bytes", r.peak_memory_bytes}});
    }
    return {{"schedule", st.schedule},
            {"stages", st.stages},
            {"microbatches", st.microbatches},
            {"chunks", st.chunks},
            {"step_time_us", st.step_time_us},
            {"bubble_fraction", st.bubble_fraction},
            {"bubble_formula", st.bubble_formula ? nlohmann::json(*st.bubble_formula) : nlohmann::json(nullptr)},
            {"bubble_formula_text", st.bubble_formula_text},
            {"imbalance", st.imbalance},
            {"critical_path",
             {{"compute_us", st.critical_compute_us},
              {"transfer_us", st.critical_transfer_us},
              {"other_us", st.critical_other_us}}},
            {"ranks", std::move(ranks)}};
}

}  // namespace pipelab
