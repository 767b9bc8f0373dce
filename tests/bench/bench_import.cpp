// Import speed and memory on a large torch.profiler-like job: a 2-rank 1F1B step whose
// actions (PP:<action> ranges, as PyTorch's multi-stage schedules write them) each hold
// many CPU operators, CUDA launches and GPU kernels tied by correlation ids, written in
// Kineto's layout (one field per line) into temporary files, plain and gzipped. Prints
// the time to import and the peak resident memory (VmHWM) of a process that did only
// that, beside the files' size: the JSON text is streamed, never held.
//   usage: bench_import [total_MB]   (default 100, split over the two rank files)
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/file_io.h"
#include "core/kineto_import.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/stats.h"

using namespace pipelab;
using Clock = std::chrono::steady_clock;

namespace {

double total_text_bytes = 0;  // the plain files' size: what a DOM reader would hold as text

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long peak_rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

// Kineto writes one field per line; keep that layout so the byte count is realistic.
void event(std::ostream& out, const char* cat, const std::string& name, int pid, int tid, double ts, double dur,
           long long correlation = -1) {
    char buf[512];
    int n = std::snprintf(buf, sizeof buf,
                          "  {\n    \"ph\": \"X\", \"cat\": \"%s\", \"name\": \"%s\", \"pid\": %d, \"tid\": %d,\n"
                          "    \"ts\": %.3f, \"dur\": %.3f,\n    \"args\": {\n      \"External id\": %lld",
                          cat, name.c_str(), pid, tid, ts, dur, correlation < 0 ? 0 : correlation);
    out.write(buf, n);
    if (correlation >= 0) out << ", \"correlation\": " << correlation;
    out << "\n    }\n  },\n";
}

// One rank's file; ops_per_action operators (each with a launch and a kernel) per action.
void write_rank(const std::string& path, int rank, const Timeline& tl, int ops_per_action) {
    OutputFile out(path);
    out << "{\n  \"schemaVersion\": 1,\n  \"deviceProperties\": [{\"id\": 0, \"name\": \"Bench GPU\"}],\n"
        << "  \"distributedInfo\": {\"backend\": \"nccl\", \"rank\": " << rank << ", \"world_size\": 2},\n"
        << "  \"baseTimeNanoseconds\": 1790000000000000000,\n  \"traceEvents\": [\n";
    const int pid = 1000 + rank, tid = pid;
    const double t0 = 5e12;  // Kineto's µs since its base: large numbers, as in real files
    event(out, "user_annotation", "ProfilerStep#1", pid, tid, t0 - 10, tl.step_time_us() + 100);
    long long corr = 1 + 10'000'000LL * rank;
    for (const TimelineEvent& e : tl.events) {
        if (e.rank != rank) continue;
        const std::string name = "PP:" + to_string(Action{e.kind, e.chunk, e.microbatch});
        const double a = t0 + e.start_us, d = std::max(e.duration_us(), 1.0);
        event(out, "user_annotation", name, pid, tid, a, d);
        if (is_comm(e.kind)) {
            const bool send = e.kind == ActionKind::SEND_F || e.kind == ActionKind::SEND_B;
            event(out, "cpu_op", send ? "c10d::send" : "c10d::recv_", pid, tid, a + 0.1, 0.5);
            event(out, "user_annotation", send ? "nccl:send" : "nccl:recv", pid, tid, a + 0.2, d - 0.3);
            continue;
        }
        const double step = d / ops_per_action;
        for (int i = 0; i < ops_per_action; ++i) {
            const double s = a + i * step;
            event(out, "cpu_op", "aten::linear", pid, tid, s, 0.8 * step);
            event(out, "cuda_runtime", "cudaLaunchKernel", pid, tid, s + 0.1 * step, 0.1 * step, corr);
            event(out, "kernel", "void gemm_kernel<float, 128, 128>(float const*, float*)", 0, 7, s + 0.3 * step,
                  0.6 * step, corr);
            ++corr;
        }
    }
    out << "  {\n    \"ph\": \"i\", \"s\": \"g\", \"name\": \"Record Window End\", \"pid\": \"\", \"tid\": \"\", "
           "\"ts\": "
        << t0 + tl.step_time_us() + 200 << "\n  }\n  ],\n  \"traceName\": \"bench\"\n}\n";
    out.commit();
}

// Imports in a child process so that its VmHWM is the import's alone.
void measure(const char* label, const std::vector<std::string>& files, double bytes) {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child == 0) {
        const auto t0 = Clock::now();
        const ImportResult r = import_trace_files(files);
        const double s = seconds_since(t0);
        const Stats st = compute_stats(r.timeline);
        const double rss = static_cast<double>(peak_rss_kib()) * 1024.0;
        std::printf(
            "%-8s %7.1f MB on disk  import %6.2f s  %7.1f MB/s  peak RSS %6.1f MB (%.2f x the JSON text)  "
            "%zu events, step %.1f ms, bubble %.1f %%, order %s\n",
            label, bytes / 1e6, s, total_text_bytes / 1e6 / s, rss / 1e6, rss / total_text_bytes,
            r.timeline.events.size(), st.step_time_us / 1e3, 100 * st.bubble_fraction,
            r.recognised_schedule.empty() ? "unknown" : r.recognised_schedule.c_str());
        std::fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::printf("%s: import failed (status %d)\n", label, status);
}

}  // namespace

int main(int argc, char** argv) {
    const double target_mb = argc > 1 ? std::atof(argv[1]) : 100.0;
    const int p = 2, m = 64;
    const Schedule s = make_schedule({ScheduleKind::OneFOneB, p, m, 1}, p);
    CostModel cost = uniform_cost_model(p, 1000, 1000, 1000, 1 << 20);
    cost.message_bytes = 1 << 20;
    cost.link = {5.0, 10e3};
    const Timeline tl = simulate(s, balanced_partition({1.0, 1.0}, p), cost);
    // ~620 bytes per operator (op + launch + kernel), 2m compute actions per rank.
    const int ops = std::max(1, static_cast<int>(target_mb * 1e6 / p / (2.0 * m) / 620.0));

    const auto dir = std::filesystem::temp_directory_path() / ("pipelab_bench_import_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::vector<std::string> plain, gz;
    auto t0 = Clock::now();
    for (int r = 0; r < p; ++r) {
        plain.push_back((dir / ("rank" + std::to_string(r) + ".json")).string());
        gz.push_back(plain.back() + ".gz");
        write_rank(plain.back(), r, tl, ops);
        write_rank(gz.back(), r, tl, ops);
    }
    double plain_bytes = 0, gz_bytes = 0;
    for (int r = 0; r < p; ++r) {
        plain_bytes += static_cast<double>(std::filesystem::file_size(plain[r]));
        gz_bytes += static_cast<double>(std::filesystem::file_size(gz[r]));
    }
    total_text_bytes = plain_bytes;
    std::printf("generated %d ranks x %d actions x %d operators in %.1f s: %.1f MB of JSON (%.1f MB gzipped)\n", p,
                static_cast<int>(tl.events.size() / p), ops, seconds_since(t0), plain_bytes / 1e6, gz_bytes / 1e6);
    measure("plain", plain, plain_bytes);
    measure("gzipped", gz, gz_bytes);
    std::filesystem::remove_all(dir);
    return 0;
}
