#pragma once
// The "cpu" backend: trains the GPT model across pipeline ranks on CPU threads. One
// CpuStage per rank, the executor runs the schedule, one Timeline per step.
#include <memory>
#include <vector>

#include "core/backend.h"
#include "core/executor.h"
#include "core/nn/cpu_stage.h"

namespace pipelab::nn {

class CpuTrainer {
public:
    // Throws ConfigError when the training data cannot be loaded.
    CpuTrainer(const RunConfig& cfg, const Plan& plan);

    // One training step (1-based). Throws ExecutorError / RunCancelled.
    StepOutcome step(int step, const std::atomic<bool>* cancel = nullptr);

    int n_ranks() const { return static_cast<int>(m_stages.size()); }
    CpuStage& stage(int rank) { return *m_stages[static_cast<std::size_t>(rank)]; }
    // The rank holding layer l.
    CpuStage& stage_of_layer(int l);
    const std::vector<std::string>& devices() const { return m_devices; }

private:
    RunConfig m_cfg;
    Plan m_plan;
    TokenData m_data;
    ExecutorOptions m_opts;
    std::vector<std::unique_ptr<CpuStage>> m_stages;
    std::vector<StageCompute*> m_raw;
    std::vector<std::string> m_devices;
};

RunResult run_cpu_backend(const RunConfig& cfg, const Plan& plan, RunControl& control);

}  // namespace pipelab::nn

namespace pipelab {
using nn::run_cpu_backend;
}
