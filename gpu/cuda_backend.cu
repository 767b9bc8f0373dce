#include "gpu/cuda_backend.h"

#include <cuda_runtime.h>

#include "core/token_data.h"
#include "gpu/cuda_check.h"
#include "gpu/cuda_device.h"
#include "gpu/cuda_plan.h"
#include "gpu/cuda_stage.h"

namespace pipelab::gpu {

namespace {

int visible_gpus(std::string* why) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        if (why) *why = std::string("no CUDA device: ") + cudaGetErrorString(e);
        return 0;
    }
    if (n == 0 && why) *why = "no CUDA device visible";
    return n;
}

TokenData load_data(const RunConfig& cfg) {
    if (cfg.training.data == "synthetic") return TokenData::synthetic(cfg.model.vocab);
    try {
        return TokenData::from_file(resolve_data_path(cfg), cfg.model.vocab, cfg.model.seq_len);
    } catch (const std::runtime_error& e) {
        throw ConfigError("training.data", e.what());
    }
}

}  // namespace

int cuda_gpu_count() { return visible_gpus(nullptr); }

std::string cuda_unavailable_reason() {
    std::string why;
    const int n = visible_gpus(&why);
    if (n == 0) return why;
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        cudaGetLastError();
        return "cannot read the properties of GPU 0";
    }
    if (prop.major < 8)
        return std::string(prop.name) + " is sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
               "; this build has kernels for sm_80 and newer (bf16 GEMMs need them)";
    return {};
}

struct CudaTrainer::Impl {
    RunConfig cfg;
    Plan plan;
    TokenData data;
    std::vector<int> gpus;
    std::vector<std::int64_t> estimate;
    // Destroyed in reverse: the executor returns its pooled buffers to the device first.
    std::unique_ptr<CudaDevice> device;
    std::vector<std::unique_ptr<CudaStage>> stages;
    std::unique_ptr<Executor> executor;

    Impl(const RunConfig& c, const Plan& p) : cfg(c), plan(p), data(load_data(c)) {}
    CudaStage& stage_of_layer(int l) const {
        for (const auto& st : stages)
            if (st->holds_layer(l)) return *st;
        throw std::out_of_range("no rank holds layer " + std::to_string(l));
    }
};

CudaTrainer::CudaTrainer(const RunConfig& cfg, const Plan& plan) {
    std::string why;
    const int visible = visible_gpus(&why);
    if (visible == 0) throw ConfigError("backend", "\"cuda\" is not available: " + why);
    const Precision precision = parse_precision(cfg.cuda.precision).value_or(Precision::FP32);
    const Schedule& s = plan.schedule;
    std::vector<int> gpus = place_ranks(cfg.cuda.devices, s.n_ranks, visible);

    // Refuse before allocating anything: what each rank will hold against what is free.
    const std::vector<RankMemory> need = estimate_memory(cfg, plan, gpus, precision);
    std::vector<GpuMemory> free;
    for (int g : gpus) {
        if (std::any_of(free.begin(), free.end(), [g](const GpuMemory& m) { return m.gpu == g; })) continue;
        const DeviceGuard guard(g);
        std::size_t f = 0, t = 0;
        PIPELAB_CUDA_CHECK(cudaMemGetInfo(&f, &t));
        free.push_back({g, static_cast<std::int64_t>(f), static_cast<std::int64_t>(t)});
    }
    if (auto refusal = check_fits(need, free)) throw DeviceOutOfMemory(*refusal);

    m = std::make_unique<Impl>(cfg, plan);
    m->gpus = gpus;
    for (const RankMemory& r : need) m->estimate.push_back(r.total());
    m->device = std::make_unique<CudaDevice>(gpus);
    AdamWConfig adam;
    adam.lr = static_cast<float>(cfg.training.lr);
    adam.weight_decay = static_cast<float>(cfg.training.weight_decay);
    std::vector<StageCompute*> raw;
    for (int r = 0; r < s.n_ranks; ++r) {
        std::vector<int> chunks;
        for (int c = 0; c < s.n_chunks(); ++c)
            if (s.rank_of(c) == r) chunks.push_back(c);
        m->stages.push_back(std::make_unique<CudaStage>(cfg.model, plan.partition, chunks, cfg.seed, m->data, cfg.seed,
                                                        s.n_microbatches, adam, precision, r,
                                                        gpus[static_cast<std::size_t>(r)], m->device->stream(r)));
        raw.push_back(m->stages.back().get());
    }
    ExecutorOptions opts;
    opts.watchdog_s = cfg.training.watchdog_s;
    opts.check_finite = cfg.training.check_finite;
    m->executor = std::make_unique<Executor>(s, raw, *m->device, opts);
}

CudaTrainer::~CudaTrainer() = default;

StepOutcome CudaTrainer::step(int step, const std::atomic<bool>* cancel) {
    for (auto& st : m->stages) st->set_step(step);
    StepOutcome out = m->executor->step(step, cancel);
    m->device->synchronize();  // the optimizer's kernels: their errors belong to this step
    out.timeline.meta.bounds = m->plan.partition.bounds;
    return out;
}

void CudaTrainer::set_apply_optimizer(bool on) {
    for (auto& st : m->stages) st->set_apply_optimizer(on);
}
std::vector<float> CudaTrainer::layer_grads(int layer) const { return m->stage_of_layer(layer).layer_grads(layer); }
std::vector<float> CudaTrainer::layer_params(int layer) const { return m->stage_of_layer(layer).layer_params(layer); }
const std::vector<int>& CudaTrainer::gpu_of_rank() const { return m->gpus; }
std::vector<std::string> CudaTrainer::gpu_summaries() const { return m->device->gpu_summaries(); }
std::vector<std::int64_t> CudaTrainer::estimated_bytes() const { return m->estimate; }

RunResult run_cuda_backend(const RunConfig& cfg, const Plan& plan, RunControl& control) {
    CudaTrainer trainer(cfg, plan);
    return run_training_steps(cfg.steps, control,
                              [&](int s, const std::atomic<bool>* cancel) { return trainer.step(s, cancel); });
}

void register_cuda_backend() { register_backend({"cuda", "CUDA", cuda_unavailable_reason, run_cuda_backend}); }

}  // namespace pipelab::gpu
