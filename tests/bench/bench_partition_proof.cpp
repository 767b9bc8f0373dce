// Auto-partition on the real engine: profiles a config on the CPU backend, finds the
// auto partition (calibrated prediction), then trains with it, with an equal-layer split
// and with today's default (the FLOP cost model's balance), in alternating rounds so that
// a busy machine slows all three alike. Prints the measured step time of each (median of
// every measured step) beside its prediction. Asserts nothing.
//   usage: bench_partition_proof CONFIG [--rounds R] [--steps S] [--profile FILE]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "app/builtin_backends.h"
#include "core/auto_partition.h"
#include "core/backend.h"
#include "core/host_device.h"
#include "core/profile.h"
#include "core/profile_run.h"
#include "tests/bench/bench_util.h"

using namespace pipelab;

using pipelab::bench::median;

namespace {
std::string cuts_text(const Partition& p) {
    std::string out;
    for (int c : p.cuts()) out += (out.empty() ? "" : ",") + std::to_string(c);
    return out;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_partition_proof CONFIG [--rounds R] [--steps S] [--profile FILE]\n");
        return 2;
    }
    int rounds = 3, steps = 3;
    std::string profile_path;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--rounds")
            rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (a == "--steps")
            steps = std::max(1, std::atoi(argv[i + 1]));
        else if (a == "--profile")
            profile_path = argv[i + 1];
    }
    register_builtin_backends();
    RunConfig cfg = load_run_config(argv[1]);
    cfg.backend = "cpu";
    cfg.pipeline.boundaries.clear();
    const Profile prof = [&] {
        if (!profile_path.empty()) return load_profile(profile_path);
        RunControl control;
        HostDevice link(2);
        return measure_profile(cfg, ProfileOptions{}, control, &link);
    }();
    Plan plan = make_plan(cfg);  // today's default: the FLOP model's balance
    const CostModel calibrated = apply_profile(prof, cfg.model, plan.cost, plan.schedule.n_ranks);
    const int k = plan.schedule.n_chunks();
    struct Candidate {
        const char* name;
        Partition part;
        std::vector<double> times;
        double predicted = 0;
    };
    std::vector<Candidate> cands{
        {"cost-model balance", plan.partition, {}, 0},
        {"equal layers", balanced_partition(std::vector<double>(calibrated.layers.size(), 1.0), k), {}, 0},
        {"auto (calibrated)", auto_partition(plan.schedule, calibrated).best, {}, 0}};
    for (Candidate& c : cands) c.predicted = score_partition(plan.schedule, c.part, calibrated).step_us;
    std::printf("%s: schedule %s, p=%d, m=%d; profile parallel_slots %.2f of %d cores\n", argv[1],
                plan.schedule.name.c_str(), plan.schedule.n_ranks, plan.schedule.n_microbatches, prof.parallel_slots,
                prof.cores);
    for (int r = 0; r < rounds; ++r) {
        for (Candidate& c : cands) {
            RunConfig rc = cfg;
            rc.pipeline.boundaries = c.part.cuts();
            rc.steps = steps + 1;
            const Plan p = make_plan(rc);
            RunControl control;
            const RunResult res = run_backend(rc, p, control);
            c.times.insert(c.times.end(), res.step_times_us.begin() + 1, res.step_times_us.end());
        }
    }
    for (const Candidate& c : cands)
        std::printf("%-20s boundaries %-16s measured %9.2f ms (median of %zu steps)   predicted %9.2f ms\n", c.name,
                    cuts_text(c.part).c_str(), median(c.times) / 1e3, c.times.size(), c.predicted / 1e3);
    return 0;
}
