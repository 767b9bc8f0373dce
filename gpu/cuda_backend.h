#pragma once
// The "cuda" backend: trains the GPT model across pipeline ranks on CUDA GPUs. One
// CudaStage per rank, the executor of core/ over a CudaDevice, one Timeline per step:
// what the CPU backend does, on GPUs. Plain C++ header: callers need no CUDA headers.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/executor.h"

namespace pipelab::gpu {

// "" when the backend can run here, else why not, in the driver's words
// ("no CUDA device: CUDA driver version is insufficient for CUDA runtime version").
std::string cuda_unavailable_reason();

// GPUs visible to this process (0 when there is no usable driver or device).
int cuda_gpu_count();

// Adds "cuda" to the backend registry (core/backend.h).
void register_cuda_backend();

RunResult run_cuda_backend(const RunConfig& cfg, const Plan& plan, RunControl& control);

class CudaTrainer {
public:
    // Places the ranks on GPUs (cuda.devices or round-robin), estimates every rank's device
    // memory and refuses a plan that will not fit (DeviceOutOfMemory, naming the stage, the
    // GPU and the free memory), then allocates and initialises. Throws ConfigError for an
    // unavailable backend, a GPU that does not exist or unreadable training data.
    CudaTrainer(const RunConfig& cfg, const Plan& plan);
    ~CudaTrainer();
    CudaTrainer(const CudaTrainer&) = delete;
    CudaTrainer& operator=(const CudaTrainer&) = delete;

    // One training step (1-based); returns when the GPUs are done with it, optimizer
    // included. Throws ExecutorError / RunCancelled / CudaError.
    StepOutcome step(int step, const std::atomic<bool>* cancel = nullptr);

    // Off: gradients stay as the step's sums (for comparing with the CPU engine).
    void set_apply_optimizer(bool on);
    // Layer l's gradients / parameters, copied to the host.
    std::vector<float> layer_grads(int layer) const;
    std::vector<float> layer_params(int layer) const;
    const std::vector<int>& gpu_of_rank() const;
    // One line per GPU in use: name, total and free memory at start.
    std::vector<std::string> gpu_summaries() const;
    // The per-rank estimate that was checked against free memory, in bytes.
    std::vector<std::int64_t> estimated_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace pipelab::gpu
