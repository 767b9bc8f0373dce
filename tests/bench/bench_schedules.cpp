// Every schedule side by side (the zero-bubble paper's Table 5 shape): bubble fraction and
// peak activation memory, with and without recomputation.
//   1. Simulated: p = 8, m = 24, F = I = W per stage (a chunk is 1/v of a stage, one layer
//      each), free communication. Activations in units of one stage's microbatch.
//   2. Measured on the CPU backend (run_backend "cpu", a tiny GPT, median of the steps
//      after the first), p = 2 and p = 4, m = 4p.
//   usage: bench_schedules [steps]   (prints, asserts nothing)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/backend.h"
#if PIPELAB_BENCH_CPU
#include "core/nn/cpu_backend.h"
#endif
#include "core/recompute.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/stats.h"

using namespace pipelab;

namespace {
constexpr std::int64_t kAct = 1 << 20;

// Two chunks per rank for the looped multi-chunk schedules too (with one, bfs is GPipe's
// shape and interleaved-zb is ZB-H1's).
int chunks_of(ScheduleKind k) {
    return k == ScheduleKind::Interleaved || k == ScheduleKind::LoopedBFS || k == ScheduleKind::InterleavedZB
               ? 2
               : default_chunks(k);
}

std::int64_t peak_activations(const Stats& st) {
    std::int64_t b = 0;
    for (const RankStats& r : st.ranks) b = std::max(b, r.peak_activation_bytes);
    return b;
}

void simulated(int p, int m) {
    std::printf("Simulated, p=%d m=%d, F=I=W=1 per stage, free communication\n", p, m);
    std::printf("%-15s %3s %9s %9s %9s %9s | %9s %9s %9s\n", "schedule", "v", "bubble", "formula", "span rate",
                "peak act", "rc bubble", "rc step", "rc peak");
    for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
        const auto kind = ScheduleKind(k);
        const int v = chunks_of(kind);
        if (auto problem = check_schedule_spec({kind, p, m, v}, p * v)) {
            std::printf("%-15s refused: %s\n", std::string(to_string(kind)).c_str(), problem->message.c_str());
            continue;
        }
        const Schedule s = make_schedule({kind, p, m, v}, p * v);
        const Partition part = balanced_partition(std::vector<double>(std::size_t(p * v), 1.0), p * v);
        const double f = 1.0 / v;
        const CostModel cost = uniform_cost_model(p * v, f, f, f, kAct / v);
        const Stats st = compute_stats(simulate(s, part, cost));
        const Stats rc =
            compute_stats(simulate(add_recompute(s, std::vector<bool>(std::size_t(p * v), true)), part, cost));
        char formula[32] = "-";
        if (st.bubble_formula) std::snprintf(formula, sizeof formula, "%.4f", *st.bubble_formula);
        std::printf("%-15s %3d %9.4f %9s %9.4f %9.2f | %9.4f %9.2f %9.2f\n", std::string(to_string(kind)).c_str(), v,
                    st.bubble_fraction, formula, span_bubble_rate(st), double(peak_activations(st)) / kAct,
                    rc.bubble_fraction, rc.step_time_us / st.step_time_us, double(peak_activations(rc)) / kAct);
    }
    std::printf(
        "(bubble: idle / (ranks x step); span rate: the zero-bubble paper's measure, 1 - busy / longest "
        "rank span; peak act: most activations any rank holds, in stage-microbatches; rc: recompute every "
        "chunk, rc step relative to without)\n\n");
}

void measured(int p, int m, int steps) {
    std::printf("CPU backend, p=%d m=%d, tiny GPT (d_model 64, 8 layers), median of %d steps\n", p, m, steps - 1);
    std::printf("%-15s %3s %9s %9s %11s %12s | %9s %11s %12s\n", "schedule", "v", "bubble", "span rate", "step ms",
                "peak act MB", "rc bubble", "rc step ms", "rc peak MB");
    for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
        const auto kind = ScheduleKind(k);
        RunConfig cfg;
        cfg.model = {256, 64, 4, 6, 256, 64, 4};  // vocab, d_model, heads, blocks, d_ff, seq, B
        cfg.pipeline = {kind, p, m, chunks_of(kind), {}, false, {}};
        if (p * cfg.pipeline.chunks > 8) cfg.pipeline.chunks = default_chunks(kind);  // 8 layers
        cfg.training.data = "synthetic";
        cfg.backend = "cpu";
        cfg.steps = steps;
        if (auto problem = check_schedule_spec({kind, p, m, cfg.pipeline.chunks}, 8)) {
            std::printf("%-15s refused: %s\n", std::string(to_string(kind)).c_str(), problem->message.c_str());
            continue;
        }
        double bubble[2], span[2], step_ms[2], peak_mb[2];
        for (int rc = 0; rc < 2; ++rc) {
            cfg.pipeline.recompute_all = rc == 1;
            const Plan plan = make_plan(cfg);
            RunControl control;
            const RunResult res = run_backend(cfg, plan, control);
            std::vector<double> times(res.step_times_us.begin() + 1, res.step_times_us.end());
            std::sort(times.begin(), times.end());
            const Stats st = compute_stats(res.timeline);
            bubble[rc] = st.bubble_fraction;
            span[rc] = span_bubble_rate(st);
            step_ms[rc] = times[times.size() / 2] / 1000.0;
            peak_mb[rc] = double(peak_activations(st)) / 1e6;
        }
        std::printf("%-15s %3d %9.4f %9.4f %11.2f %12.2f | %9.4f %11.2f %12.2f\n", std::string(to_string(kind)).c_str(),
                    cfg.pipeline.chunks, bubble[0], span[0], step_ms[0], peak_mb[0], bubble[1], step_ms[1], peak_mb[1]);
        (void)span[1];
    }
    std::printf("\n");
}
}  // namespace

int main(int argc, char** argv) {
    const int steps = argc > 1 ? std::max(2, std::atoi(argv[1])) : 6;
    simulated(8, 24);
#if PIPELAB_BENCH_CPU
    nn::register_cpu_backend();
    measured(2, 8, steps);
    measured(4, 16, steps);
#else
    (void)steps;
    std::printf("(no CPU backend in this build: OpenBLAS missing)\n");
#endif
    return 0;
}
