// Simulator throughput at a large pipeline: p=64 ranks, m=1024 microbatches, v=2 chunks
// (interleaved). Prints actions simulated per second and wall times; asserts nothing.
//   usage: bench_simulator [p m v repeats]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "core/validate.h"

using namespace pipelab;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int main(int argc, char** argv) {
    const int p = argc > 1 ? std::atoi(argv[1]) : 64;
    const int m = argc > 2 ? std::atoi(argv[2]) : 1024;
    const int v = argc > 3 ? std::atoi(argv[3]) : 2;
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 5;
    const ScheduleKind kind = v > 1 ? ScheduleKind::Interleaved : ScheduleKind::OneFOneB;

    auto t0 = Clock::now();
    const Schedule s = make_schedule({kind, p, m, v}, p * v);
    const double gen_ms = ms_since(t0);
    t0 = Clock::now();
    const auto err = validate_schedule(s);
    const double val_ms = ms_since(t0);
    if (err) {
        std::fprintf(stderr, "invalid schedule: %s\n", err->message.c_str());
        return 1;
    }
    CostModel cost = uniform_cost_model(p * v, 100, 100, 100, 1 << 20);
    cost.message_bytes = 1 << 20;
    cost.link = {5.0, 10e3};
    const Partition part = balanced_partition(std::vector<double>(static_cast<std::size_t>(p * v), 1.0), p * v);

    double best_ms = 1e300;
    std::size_t events = 0;
    double bubble = 0;
    for (int i = 0; i < repeats; ++i) {
        t0 = Clock::now();
        const Timeline tl = simulate(s, part, cost);
        best_ms = std::min(best_ms, ms_since(t0));
        events = tl.events.size();
        if (i == 0) bubble = compute_stats(tl).bubble_fraction;
    }
    const double actions = double(s.action_count());
    std::printf("simulator benchmark: %s p=%d m=%d v=%d, %.0f actions (%zu events)\n", s.name.c_str(), p, m, v, actions,
                events);
    std::printf("  generate    %8.1f ms\n", gen_ms);
    std::printf("  validate    %8.1f ms  (%.2f M actions/s)\n", val_ms, actions / val_ms / 1e3);
    std::printf("  simulate    %8.1f ms  best of %d  (%.2f M actions/s)\n", best_ms, repeats, actions / best_ms / 1e3);
    std::printf("  bubble      %8.2f %%\n", 100.0 * bubble);
    return 0;
}
