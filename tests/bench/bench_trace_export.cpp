// Chrome-trace export of a large simulated run, plain and gzipped (the file extension
// chooses): wall time, file size and bytes per event. Asserts nothing.
//   usage: bench_trace_export [p m v]   (default 64 1024 4: ~2M actions)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/trace_io.h"

using namespace pipelab;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    const int p = argc > 1 ? std::atoi(argv[1]) : 64;
    const int m = argc > 2 ? std::atoi(argv[2]) : 1024;
    const int v = argc > 3 ? std::atoi(argv[3]) : 4;
    const Schedule s = make_schedule({v > 1 ? ScheduleKind::Interleaved : ScheduleKind::OneFOneB, p, m, v}, p * v);
    CostModel cost = uniform_cost_model(p * v, 100, 100, 100, 1 << 20);
    cost.message_bytes = 1 << 20;
    cost.link = {5.0, 10e3};
    const Partition part = balanced_partition(std::vector<double>(static_cast<std::size_t>(p * v), 1.0), p * v);
    const Timeline tl = simulate(s, part, cost);
    std::printf("trace export: %s p=%d m=%d v=%d, %zu actions, %zu memory samples\n", s.name.c_str(), p, m, v,
                tl.events.size(), tl.memory.size());
    const auto dir = std::filesystem::temp_directory_path();
    for (const char* name : {"pipelab_bench_trace.json", "pipelab_bench_trace.json.gz"}) {
        const auto path = (dir / name).string();
        const auto t0 = Clock::now();
        write_chrome_trace(tl, path);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        const auto bytes = std::filesystem::file_size(path);
        std::printf("  %-28s %8.0f ms  %8.1f MB  %6.1f bytes/action (memory samples included)\n", name, ms,
                    double(bytes) / 1e6, double(bytes) / double(tl.events.size()));
        std::filesystem::remove(path);
    }
    return 0;
}
