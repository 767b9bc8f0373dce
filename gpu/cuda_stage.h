#pragma once
// One rank's share of the GPT model on its GPU: the parameters, gradients and AdamW state
// of the layers of its chunks, in device memory, and the forward / recompute / I / W of
// each chunk on executor-owned device buffers (gpu/gpt_layer_math.h over CudaOps).
// Implements StageCompute (core/executor.h) as core/nn's CpuStage does on the CPU: same
// layers, same tensor tables, same initialisation (core/gpt_tensors, on the host, then
// copied), same data, so one step's loss and gradients match the CPU engine's.
//
// Everything is enqueued on the rank's stream; the only waits are loss_sum() (once per
// step, after the rank's actions) and the read-back helpers for checks.
// Letters: B microbatch size, T sequence length, C d_model.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "core/adamw_config.h"
#include "core/executor.h"
#include "core/gpt_tensors.h"
#include "core/partition.h"
#include "core/token_data.h"
#include "gpu/cuda_ops.h"
#include "gpu/cuda_plan.h"

namespace pipelab::gpu {

class CudaStage final : public StageCompute {
public:
    // Allocates and initialises on `gpu`; work goes to `stream`. Throws DeviceOutOfMemory.
    CudaStage(const ModelConfig& cfg, const Partition& part, std::vector<int> chunks, std::uint64_t seed,
              const TokenData& data, std::uint64_t data_seed, int n_microbatches, AdamWConfig adam, Precision precision,
              int rank, int gpu, cudaStream_t stream);
    ~CudaStage() override;
    CudaStage(const CudaStage&) = delete;
    CudaStage& operator=(const CudaStage&) = delete;

    ChunkSizes buffers(int chunk) const override;
    std::int64_t param_bytes() const override { return m_layout.param_bytes(); }
    std::int64_t grad_bytes() const override { return m_layout.grad_bytes(); }
    std::int64_t optimizer_bytes() const override { return m_layout.optimizer_bytes(); }
    std::int64_t workspace_bytes() const override { return m_layout.workspace_bytes(); }
    void zero_grad() override;
    void forward(int chunk, int mb, const float* input, std::byte* saved, float* output) override;
    void recompute(int chunk, int mb, const float* input, std::byte* saved) override;
    void backward_input(int chunk, int mb, const float* dout, std::byte* saved, std::byte* pending,
                        float* dinput) override;
    void backward_weight(int chunk, int mb, const std::byte* saved, const std::byte* pending) override;
    double loss_sum() override;
    void optimizer_step(int step) override;

    void set_apply_optimizer(bool on) { m_apply_optimizer = on; }
    void set_step(int step) { m_step = step; }

    bool holds_layer(int l) const;
    // Layer l's gradients / parameters copied to the host (waits for the stream).
    std::vector<float> layer_grads(int l) const;
    std::vector<float> layer_params(int l) const;

private:
    using Chunk = ChunkLayout;
    const Chunk& chunk_of(int c) const;
    std::size_t slot(int layer) const;
    void run_forward(int c, int mb, const float* input, std::byte* saved, float* output, bool count_loss);
    std::vector<float> read_back(const float* p, std::int64_t n) const;
    void* device_alloc(std::int64_t bytes, const char* what);
    void release_all() noexcept;

    const ModelConfig m_cfg;
    const GptDims m_d;
    const TokenData& m_data;
    const std::uint64_t m_data_seed;
    const int m_microbatches;
    const AdamWConfig m_adam;
    const int m_rank, m_gpu;
    cudaStream_t m_stream;
    StageLayout m_layout;
    std::vector<int> m_chunk_ids;
    std::vector<Chunk> m_chunks;
    std::vector<int> m_layer_ids;           // this rank's layers, in model order
    std::vector<std::int64_t> m_param_off;  // float offset of each layer in the flat arrays
    std::vector<void*> m_allocations;       // every cudaMalloc of this stage, freed at the end
    float *m_params = nullptr, *m_grads = nullptr, *m_m = nullptr, *m_v = nullptr;
    void* m_params_bf16 = nullptr;
    float *m_ping = nullptr, *m_pong = nullptr;
    int* m_step_data = nullptr;       // (m, 2, B, T): tokens then targets of every microbatch
    int* m_step_data_host = nullptr;  // pinned mirror, filled at zero_grad
    std::byte* m_scratch = nullptr;
    double* m_loss_dev = nullptr;
    double* m_loss_host = nullptr;  // pinned
    cublasHandle_t m_blas = nullptr;
    CudaOps m_ops;
    int m_step = 1;
    bool m_apply_optimizer = true;
};

}  // namespace pipelab::gpu
