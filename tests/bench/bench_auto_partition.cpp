// Auto-partition speed at a large model: L = 96 blocks (98 partition units), p = 8 ranks,
// v = 2 chunks (interleaved, m = 16) on the FLOP model of a GPT-2-small-like shape with a
// large vocabulary. Prints the wall time, splits simulated, and predicted step times of
// the balanced default and the auto split. Asserts nothing.
//   usage: bench_auto_partition [L p v m]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/auto_partition.h"
#include "core/run_config.h"
#include "core/schedule_gen.h"

using namespace pipelab;

int main(int argc, char** argv) {
    RunConfig cfg;
    cfg.model.layers = argc > 1 ? std::atoi(argv[1]) : 96;
    cfg.model.vocab = 50257;
    cfg.model.d_model = 256;
    cfg.model.d_ff = 1024;
    cfg.pipeline.stages = argc > 2 ? std::atoi(argv[2]) : 8;
    cfg.pipeline.chunks = argc > 3 ? std::atoi(argv[3]) : 2;
    cfg.pipeline.microbatches = argc > 4 ? std::atoi(argv[4]) : 16;
    cfg.pipeline.schedule = cfg.pipeline.chunks > 1 ? ScheduleKind::Interleaved : ScheduleKind::OneFOneB;
    const Plan plan = make_plan(cfg);
    const auto t0 = std::chrono::steady_clock::now();
    const AutoPartitionResult r = auto_partition(plan.schedule, plan.cost);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const PartitionScore base = score_partition(plan.schedule, plan.partition, plan.cost);
    std::printf("auto-partition L=%d p=%d v=%d m=%d (%s): %.1f ms wall, %lld splits simulated%s\n", cfg.model.layers,
                cfg.pipeline.stages, cfg.pipeline.chunks, cfg.pipeline.microbatches, plan.schedule.name.c_str(), ms,
                r.evaluated, r.exhaustive ? " (exhaustive)" : " (local search)");
    std::printf("predicted step: balanced default %.3f ms, auto %.3f ms (%.1f %% faster)\n", base.step_us / 1e3,
                r.score.step_us / 1e3, 100.0 * (base.step_us - r.score.step_us) / base.step_us);
    return 0;
}
