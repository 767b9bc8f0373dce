#pragma once
// The "cpu" backend: trains the GPT model across pipeline ranks on CPU threads. One
// CpuStage per rank, the executor runs the schedule, one Timeline per step.
#include <memory>
#include <vector>

#include "core/backend.h"
#include "core/executor.h"
#include "core/host_device.h"
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

private:
    RunConfig m_cfg;
    Plan m_plan;
    TokenData m_data;
    std::vector<std::unique_ptr<CpuStage>> m_stages;
    HostDevice m_device;
    std::unique_ptr<Executor> m_executor;
};

RunResult run_cpu_backend(const RunConfig& cfg, const Plan& plan, RunControl& control);

// Adds "cpu" to the backend registry (core/backend.h).
void register_cpu_backend();

}  // namespace pipelab::nn

namespace pipelab {
using nn::register_cpu_backend;
using nn::run_cpu_backend;
}  // namespace pipelab
