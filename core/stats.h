#pragma once
// Figures a user reads off any Timeline, simulated or measured.
//
// Two bubble measures (PRIMER "Two ways to count the bubble"):
//   bubble_fraction      idle over (ranks x step time): what the formulas give.
//   span_bubble_fraction per rank, 1 - busy / (last end - first start) on that rank.
// Busy time is compute only (F, B, I, W); a rank blocked in a receive is idle.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/timeline.h"

namespace pipelab {

struct RankStats {
    int rank = 0;
    double busy_us = 0;
    double idle_us = 0;                  // step time - busy
    double bubble_fraction = 0;          // idle / step time
    double span_bubble_fraction = 0;     // 1 - busy / own span
    double compute_span_us = 0;          // first compute start to last compute end
    int peak_inflight_microbatches = 0;  // (chunk, microbatch) pairs whose activations are held
    std::int64_t peak_activation_bytes = 0;
    std::int64_t peak_memory_bytes = 0;
    int compute_actions = 0;
    int comm_actions = 0;
};

struct Stats {
    std::string schedule;
    int stages = 0, microbatches = 0, chunks = 1;
    double step_time_us = 0;
    double bubble_fraction = 0;
    std::optional<double> bubble_formula;  // the textbook value for this schedule, if known
    std::string bubble_formula_text;       // "(p-1)/(m+p-1) = 3/11"
    double imbalance = 0;                  // max busy / mean busy - 1 (0 = balanced)
    // The step's critical path (core/why_wait.h): where the time that sets the step goes.
    double critical_compute_us = 0, critical_transfer_us = 0, critical_other_us = 0;
    std::vector<RankStats> ranks;
};

Stats compute_stats(const Timeline& tl);

// The zero-bubble paper's bubble rate (its scheduler's objective): 1 - mean busy / the
// longest compute_span_us of a rank. Unlike bubble_fraction it
// does not count a rank's wait before its first input nor after its last action, which a
// next iteration overlaps (ZB-H2's and ZB-V's "zero bubble" is zero in this measure).
double span_bubble_rate(const Stats& st);

// Global idle fraction for a balanced pipeline with free communication:
// gpipe/1f1b (p-1)/(m+p-1); interleaved (p-1)/(v*m+p-1) when m % p == 0. Nullopt for the
// others (zb-h1 and zb-greedy get ZB-H1's from measured F, I, W in compute_stats).
std::optional<double> bubble_formula(const std::string& schedule, int p, int m, int v);
// Zero bubble (ZB-H1's bubble) depends on the split of the backward: per rank the bubble
// is (p-1)(F+I-W) beside m(F+I+W) of work, with F, I, W the times of one chunk's actions.
double zero_bubble_formula(int p, int m, double f, double i, double w);

}  // namespace pipelab
