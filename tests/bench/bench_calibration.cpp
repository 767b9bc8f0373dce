// Accuracy of the calibrated simulator against the CPU engine. Profiles the model once
// (core/profile_run.h), then for every schedule x three partitions (the cost model's
// balance, a skewed one, the sample's imbalanced one) x m x p it trains on the CPU backend
// (median of the measured steps after one warm-up) and simulates with the profile's costs,
// printing measured and predicted step time, bubble, peak memory and the signed error.
// Asserts nothing.
//   usage: bench_calibration [--quick] [--reprofile] [--config FILE] [--profile FILE] [--steps N]
//                            [--schedules gpipe,1f1b,...]
//   --quick: a smaller model and m in {4, 8} (a few minutes on 2 cores)
//   --reprofile: profile again before every (schedule, p) group, for a machine whose load
//   drifts (a shared one): the profile then describes the machine the runs meet
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "app/builtin_backends.h"
#include "core/backend.h"
#include "core/host_device.h"
#include "core/profile.h"
#include "core/profile_run.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "tests/bench/bench_util.h"

using namespace pipelab;

using pipelab::bench::median;

namespace {

std::int64_t max_peak(const Stats& st) {
    std::int64_t m = 0;
    for (const RankStats& r : st.ranks) m = std::max(m, r.peak_memory_bytes);
    return m;
}

// The three partitions of a pipeline with k chunks over n layers.
struct NamedCuts {
    const char* name;
    std::vector<int> cuts;  // empty: the cost model's balance (the config default)
};

std::vector<NamedCuts> partitions(int n, int k, const std::vector<int>& sample_cuts) {
    std::vector<NamedCuts> out{{"balanced", {}}};
    // Skewed: the first chunk takes half the layers, the rest one or more each.
    std::vector<int> skew;
    const int first = std::max(1, std::min(n - (k - 1), n / 2));
    int at = first;
    for (int c = 1; c < k; ++c) {
        skew.push_back(at);
        at += std::max(1, (n - first) / k);
        at = std::min(at, n - (k - 1 - c));
    }
    out.push_back({"skewed", skew});
    // Imbalanced: the sample's cuts when they fit this k, else equal layer counts (the
    // heavy head alone makes the last chunk slow).
    if (static_cast<int>(sample_cuts.size()) == k - 1) {
        out.push_back({"imbalanced", sample_cuts});
    } else {
        std::vector<int> eq;
        for (int c = 1; c < k; ++c) eq.push_back(c * n / k);
        out.push_back({"imbalanced", eq});
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, reprofile = false;
    std::vector<std::string> only;  // --schedules: a subset, by name
    std::string config = PIPELAB_SAMPLES_DIR "/imbalanced_heavy_head.json", profile_path;
    int steps = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick")
            quick = true;
        else if (a == "--reprofile")
            reprofile = true;
        else if (a == "--config" && i + 1 < argc)
            config = argv[++i];
        else if (a == "--profile" && i + 1 < argc)
            profile_path = argv[++i];
        else if (a == "--steps" && i + 1 < argc)
            steps = std::max(1, std::atoi(argv[++i]));
        else if (a == "--schedules" && i + 1 < argc) {
            std::stringstream list(argv[++i]);
            for (std::string name; std::getline(list, name, ',');) {
                const auto kind = parse_schedule_kind(name);
                if (!kind) {
                    std::fprintf(stderr, "bench_calibration: unknown schedule '%s' in --schedules\n", name.c_str());
                    return 2;
                }
                only.push_back(std::string(to_string(*kind)));  // aliases to the canonical name
            }
        } else {
            std::fprintf(
                stderr,
                "usage: bench_calibration [--quick] [--reprofile] [--config FILE] [--profile FILE] [--steps N] "
                "[--schedules gpipe,1f1b,...]\n");
            return 2;
        }
    }
    register_builtin_backends();
    RunConfig base = load_run_config(config);
    const std::vector<int> sample_cuts = base.pipeline.boundaries;
    if (quick) {  // same shape of problem (heavy head), a quarter of the work
        base.model.d_model = 128;
        base.model.d_ff = 512;
        base.model.vocab = std::min(base.model.vocab, 8192);
    }
    base.backend = "cpu";
    base.training.data = "synthetic";

    Profile prof;
    if (!profile_path.empty()) {
        prof = load_profile(profile_path);
    } else {
        RunControl control;
        HostDevice link(2);
        prof = measure_profile(base, ProfileOptions{}, control, &link);
    }
    if (auto diff = profile_mismatch(prof, base.model)) {
        std::fprintf(stderr, "bench_calibration: %s\n", diff->c_str());
        return 2;
    }
    std::printf(
        "model: vocab %d, d_model %d, %d blocks, microbatch %d x %d; profile: %s, %d cores (%.2f parallel slots), link "
        "%.1f us + %.2f GB/s\n",
        base.model.vocab, base.model.d_model, base.model.layers, base.model.microbatch_size, base.model.seq_len,
        prof.machine.c_str(), prof.cores, prof.parallel_slots, prof.link.latency_us,
        prof.link.bandwidth_bytes_per_us / 1e3);
    std::printf("%-12s %-10s %2s %3s %2s %11s %11s %8s %8s %8s %10s %10s %5s\n", "schedule", "partition", "p", "m", "v",
                "meas ms", "pred ms", "err %", "bub meas", "bub pred", "peak MiB", "pred MiB", "mem");

    const int n = base.model.layers + 2;
    std::vector<double> errs;
    double worst = 0;
    std::string worst_row;
    int mem_exact = 0, act_exact_n = 0, rows = 0;
    const std::vector<int> ms = quick ? std::vector<int>{4, 8} : std::vector<int>{4, 8, 16};
    for (int k = 0; k < static_cast<int>(ScheduleKind::NUM_SCHEDULES); ++k) {
        const auto kind = static_cast<ScheduleKind>(k);
        if (!only.empty() && std::find(only.begin(), only.end(), std::string(to_string(kind))) == only.end()) continue;
        for (int p : {2, 4}) {
            const int v = kind == ScheduleKind::Interleaved ? 2 : 1;
            if (reprofile) {
                RunControl control;
                HostDevice link(2);
                prof = measure_profile(base, ProfileOptions{}, control, &link);
                std::printf("(profiled again: parallel_slots %.2f)\n", prof.parallel_slots);
            }
            for (int m : ms) {
                if (check_schedule_spec({kind, p, m, v}, n)) continue;
                for (const NamedCuts& part :
                     partitions(n, p * v, p == 4 && v == 1 ? sample_cuts : std::vector<int>{})) {
                    RunConfig cfg = base;
                    cfg.pipeline.schedule = kind;
                    cfg.pipeline.stages = p;
                    cfg.pipeline.chunks = v;
                    cfg.pipeline.microbatches = m;
                    cfg.pipeline.boundaries = part.cuts;
                    cfg.steps = steps + 1;
                    Plan plan = make_plan(cfg);
                    RunControl control;
                    const RunResult real = run_backend(cfg, plan, control);
                    const double meas =
                        median(std::vector<double>(real.step_times_us.begin() + 1, real.step_times_us.end()));
                    plan.cost = apply_profile(prof, cfg.model, plan.cost, p);
                    const Timeline sim = simulate(plan.schedule, plan.partition, plan.cost);
                    const Stats sr = compute_stats(real.timeline), ss = compute_stats(sim);
                    const double err = 100.0 * (ss.step_time_us - meas) / meas;
                    bool exact = true, act_exact = true;
                    for (int r = 0; r < p; ++r) {
                        exact = exact && sr.ranks[r].peak_memory_bytes == ss.ranks[r].peak_memory_bytes;
                        act_exact = act_exact && sr.ranks[r].peak_activation_bytes == ss.ranks[r].peak_activation_bytes;
                    }
                    mem_exact += exact;
                    act_exact_n += act_exact;
                    ++rows;
                    errs.push_back(std::abs(err));
                    char row[256];
                    std::snprintf(row, sizeof row,
                                  "%-12s %-10s %2d %3d %2d %11.2f %11.2f %+8.2f %7.1f%% %7.1f%% %10.2f %10.2f %5s",
                                  std::string(to_string(kind)).c_str(), part.name, p, m, v, meas / 1e3,
                                  ss.step_time_us / 1e3, err, 100 * sr.bubble_fraction, 100 * ss.bubble_fraction,
                                  max_peak(sr) / 1048576.0, max_peak(ss) / 1048576.0,
                                  exact       ? "exact"
                                  : act_exact ? "msg"
                                              : "DIFF");
                    std::printf("%s\n", row);
                    std::fflush(stdout);
                    if (std::abs(err) > worst) {
                        worst = std::abs(err);
                        worst_row = row;
                    }
                }
            }
        }
    }
    double mean = 0;
    for (double e : errs) mean += e;
    mean /= std::max<std::size_t>(1, errs.size());
    std::printf(
        "\n%d runs: mean |step-time error| %.2f %%, worst %.2f %% (aim: mean <= 5 %%, worst <= 10 %%); "
        "peak memory exact on every rank in %d of %d, peak activations in %d of %d\n"
        "(msg: a boundary message in flight at the peak, which depends on arrival times)\nworst: %s\n",
        rows, mean, worst, mem_exact, rows, act_exact_n, rows, worst_row.c_str());
    return 0;
}
