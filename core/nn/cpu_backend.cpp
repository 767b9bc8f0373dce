#include "core/nn/cpu_backend.h"

#include "core/nn/ops.h"

namespace pipelab::nn {

namespace {
TokenData load_data(const RunConfig& cfg) {
    if (cfg.training.data == "synthetic") return TokenData::synthetic(cfg.model.vocab);
    try {
        return TokenData::from_file(resolve_data_path(cfg), cfg.model.vocab, cfg.model.seq_len);
    } catch (const std::runtime_error& e) {
        throw ConfigError("training.data", e.what());
    }
}
}  // namespace

CpuTrainer::CpuTrainer(const RunConfig& cfg, const Plan& plan)
    : m_cfg(cfg), m_plan(plan), m_data(load_data(cfg)), m_device(plan.schedule.n_ranks) {
    // Ranks are the parallelism: every rank's thread calls single-threaded BLAS.
    nn_set_single_threaded_blas();
    AdamWConfig adam;
    adam.lr = static_cast<float>(cfg.training.lr);
    adam.weight_decay = static_cast<float>(cfg.training.weight_decay);
    const Schedule& s = plan.schedule;
    std::vector<StageCompute*> raw;
    for (int r = 0; r < s.n_ranks; ++r) {
        std::vector<int> chunks;
        for (int c = 0; c < s.n_chunks(); ++c)
            if (s.rank_of(c) == r) chunks.push_back(c);
        m_stages.push_back(std::make_unique<CpuStage>(cfg.model, plan.partition, chunks, cfg.seed, m_data, cfg.seed,
                                                      s.n_microbatches, adam));
        raw.push_back(m_stages.back().get());
    }
    ExecutorOptions opts;
    opts.watchdog_s = cfg.training.watchdog_s;
    opts.check_finite = cfg.training.check_finite;
    m_executor = std::make_unique<Executor>(s, raw, m_device, opts);
}

CpuStage& CpuTrainer::stage_of_layer(int l) {
    for (auto& st : m_stages)
        if (st->holds_layer(l)) return *st;
    throw std::out_of_range("no rank holds layer " + std::to_string(l));
}

StepOutcome CpuTrainer::step(int step, const std::atomic<bool>* cancel) {
    for (auto& st : m_stages) st->set_step(step);
    StepOutcome out = m_executor->step(step, cancel);
    out.timeline.meta.bounds = m_plan.partition.bounds;
    return out;
}

RunResult run_cpu_backend(const RunConfig& cfg, const Plan& plan, RunControl& control) {
    CpuTrainer trainer(cfg, plan);
    return run_training_steps(cfg.steps, control,
                              [&](int s, const std::atomic<bool>* cancel) { return trainer.step(s, cancel); });
}

void register_cpu_backend() {
    register_backend({"cpu", "CPU threads", [] { return std::string(); }, run_cpu_backend});
}

}  // namespace pipelab::nn
