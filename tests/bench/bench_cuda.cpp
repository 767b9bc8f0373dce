// bench_cuda: the CUDA backend on a GPT-2-small shape (d_model 768, 12 layers, 12 heads,
// seq 1024, vocab 50257), unpipelined and as a 4-rank pipeline on one GPU, in tf32 and
// bf16 (fp32 on request). Prints, per run: step time (median of wall-clock steps, the
// optimizer included), tokens/s, model FLOP utilisation, and the median device gap
// between consecutive actions of a rank (from the measured Timeline). When PyTorch with
// CUDA is importable, the same model in PyTorch eager (tests/bench/torch_gpt_step.py)
// runs on the same GPU, and the ratio PipeLab step / PyTorch step is printed.
// Asserts nothing; exits 77 without a GPU.
//
//   bench_cuda [--steps N] [--precisions tf32,bf16] [--layers L] [--microbatch-size B]
//              [--microbatches M] [--no-torch]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_config.h"
#include "gpu/cuda_backend.h"
#include "gpu/device_info.h"
#include "tests/bench/bench_util.h"

using namespace pipelab;

using pipelab::bench::median;

namespace {

// Dense peak of the tensor cores (or FP32 units) by precision, for the GPUs we know.
double peak_flops(const std::string& gpu, const std::string& precision) {
    const bool hopper = gpu.find("H100") != std::string::npos || gpu.find("H200") != std::string::npos;
    const bool ampere = gpu.find("A100") != std::string::npos;
    if (hopper) return precision == "bf16" ? 989.4e12 : precision == "tf32" ? 494.7e12 : 66.9e12;  // SXM
    if (ampere) return precision == "bf16" ? 312e12 : precision == "tf32" ? 156e12 : 19.5e12;
    return 0;
}

// Median gap between an action's end and the next action's start on the same rank.
double median_gap_us(const Timeline& tl) {
    std::vector<double> gaps;
    for (int r = 0; r < tl.meta.stages; ++r) {
        std::vector<const TimelineEvent*> ev;
        for (const TimelineEvent& e : tl.events)
            if (e.rank == r) ev.push_back(&e);
        std::sort(ev.begin(), ev.end(), [](auto* a, auto* b) { return a->start_us < b->start_us; });
        for (std::size_t i = 1; i < ev.size(); ++i) gaps.push_back(std::max(0.0, ev[i]->start_us - ev[i - 1]->end_us));
    }
    return median(gaps);
}

struct Options {
    int steps = 5, warmup = 2;
    std::vector<std::string> precisions = {"tf32", "bf16"};
    int layers = 12, microbatch_size = 4, microbatches = 8;
    bool torch = true;
};

RunConfig gpt2_small(const Options& o, int stages, const std::string& precision) {
    RunConfig c;
    c.model.vocab = 50257;
    c.model.d_model = 768;
    c.model.heads = 12;
    c.model.layers = o.layers;
    c.model.d_ff = 3072;
    c.model.seq_len = 1024;
    c.model.microbatch_size = o.microbatch_size;
    c.pipeline.stages = stages;
    c.pipeline.microbatches = o.microbatches;
    c.pipeline.schedule = ScheduleKind::OneFOneB;
    c.cuda.precision = precision;
    c.cuda.devices.assign(static_cast<std::size_t>(stages), 0);
    c.backend = "cuda";
    return c;
}

// The PyTorch eager step time in ms, or a negative value when PyTorch cannot run here.
double torch_step_ms(const Options& o, const std::string& precision) {
    if (!o.torch) return -1;
    if (std::system("python3 -c \"import torch; assert torch.cuda.is_available()\" > /dev/null 2>&1") != 0) return -1;
    std::ostringstream cmd;
    cmd << "python3 " << PIPELAB_TORCH_SCRIPT << " --layers " << o.layers << " --batch " << o.microbatch_size
        << " --microbatches " << o.microbatches << " --precision " << precision << " --steps " << o.steps
        << " --warmup " << o.warmup << " 2>&1";
    FILE* p = popen(cmd.str().c_str(), "r");
    if (!p) return -1;
    char line[512];
    double ms = -1;
    while (std::fgets(line, sizeof line, p)) {
        if (std::sscanf(line, "torch_step_ms %lf", &ms) == 1) continue;
        std::fputs(("  [torch] " + std::string(line)).c_str(), stdout);
    }
    pclose(p);
    return ms;
}

void run(const Options& o, int stages, const std::string& precision, const std::string& gpu_name) {
    const RunConfig cfg = gpt2_small(o, stages, precision);
    const Plan plan = make_plan(cfg);
    std::printf("\n== %s, %d rank(s) on GPU 0, 1f1b, m = %d x B = %d, T = %d ==\n", precision.c_str(), stages,
                o.microbatches, o.microbatch_size, cfg.model.seq_len);
    std::fflush(stdout);
    try {
        gpu::CudaTrainer trainer(cfg, plan);
        std::vector<double> wall_ms, gaps, device_ms;
        for (int s = 1; s <= o.warmup + o.steps; ++s) {
            const auto t0 = std::chrono::steady_clock::now();
            const StepOutcome out = trainer.step(s);
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (s <= o.warmup) continue;
            wall_ms.push_back(ms);
            device_ms.push_back(out.timeline.step_time_us() / 1000);
            gaps.push_back(median_gap_us(out.timeline));
            std::printf("  step %d: %.1f ms wall, %.1f ms on the GPU, loss %.4f\n", s, ms, device_ms.back(), out.loss);
        }
        const double step_ms = median(wall_ms);
        const double tokens = double(o.microbatches) * o.microbatch_size * cfg.model.seq_len;
        double n_params = 0;
        for (const Layer& l : plan.layers) n_params += double(l.params);
        // model FLOPs per token: 6 N (forward + backward of every weight) + 12 L T C (attention)
        const double flops = tokens * (6 * n_params + 12.0 * cfg.model.layers * cfg.model.seq_len * cfg.model.d_model);
        const double peak = peak_flops(gpu_name, precision);
        std::printf("  PipeLab: step %.1f ms, %.0f tokens/s, %.1f TFLOP/s", step_ms, tokens / (step_ms / 1000),
                    flops / (step_ms / 1000) / 1e12);
        if (peak > 0) std::printf(", MFU %.1f %% of %.0f TFLOP/s", 100 * flops / (step_ms / 1000) / peak, peak / 1e12);
        std::printf("\n  median device gap between consecutive actions of a rank: %.1f us\n", median(gaps));
        if (stages == 1) {
            const double t = torch_step_ms(o, precision);
            if (t > 0)
                std::printf("  PyTorch eager: step %.1f ms; PipeLab / PyTorch = %.2f\n", t, step_ms / t);
            else
                std::printf("  PyTorch eager: not run (no importable torch with CUDA, or --no-torch)\n");
        }
    } catch (const std::exception& e) {
        std::printf("  not run: %s\n", e.what());
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_cuda: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--steps")
            o.steps = std::max(1, std::atoi(value().c_str()));
        else if (a == "--layers")
            o.layers = std::max(1, std::atoi(value().c_str()));
        else if (a == "--microbatch-size")
            o.microbatch_size = std::max(1, std::atoi(value().c_str()));
        else if (a == "--microbatches")
            o.microbatches = std::max(4, std::atoi(value().c_str()));
        else if (a == "--no-torch")
            o.torch = false;
        else if (a == "--precisions") {
            o.precisions.clear();
            std::stringstream ss(value());
            for (std::string p; std::getline(ss, p, ',');) o.precisions.push_back(p);
        } else {
            std::fprintf(stderr,
                         "usage: bench_cuda [--steps N] [--precisions tf32,bf16] [--layers L] "
                         "[--microbatch-size B] [--microbatches M] [--no-torch]\n");
            return 2;
        }
    }
    const std::string why = gpu::cuda_unavailable_reason();
    if (!why.empty()) {
        std::printf("SKIP bench_cuda: %s\n", why.c_str());
        return 77;
    }
    const gpu::DeviceList devs = gpu::list_devices();
    const std::string name = devs.devices.front().name;
    std::printf("bench_cuda on %s (%d SMs, %.1f GiB)\n", name.c_str(), devs.devices.front().multiprocessors,
                double(devs.devices.front().total_bytes) / (1 << 30));
    o.microbatches = (o.microbatches + 3) / 4 * 4;
    for (const std::string& p : o.precisions) {
        run(o, 1, p, name);
        run(o, 4, p, name);
    }
    return 0;
}
