#pragma once
// One rank's share of the GPT model on CPU: the parameters, gradients and AdamW state of
// the layers of its chunks, and the forward / I / W of each chunk on executor-owned
// buffers. Implements StageCompute (core/executor.h).
//
// Letters: B microbatch size, T sequence length, C d_model.
#include <cstddef>
#include <memory>
#include <vector>

#include "core/executor.h"
#include "core/nn/adamw.h"
#include "core/nn/gpt_layer.h"
#include "core/partition.h"
#include "core/schedule.h"
#include "core/token_data.h"

namespace pipelab::nn {

class CpuStage final : public StageCompute {
public:
    // chunks: the chunks this rank holds (layer ranges from `part`). Parameters are
    // initialised per layer from `seed`, so every partition starts from the same model.
    CpuStage(const ModelConfig& cfg, const Partition& part, std::vector<int> chunks, std::uint64_t seed,
             const TokenData& data, std::uint64_t data_seed, int n_microbatches, AdamWConfig adam);

    ChunkSizes buffers(int chunk) const override;
    std::int64_t param_bytes() const override { return m_n_params * 4; }
    std::int64_t grad_bytes() const override { return m_n_params * 4; }
    std::int64_t optimizer_bytes() const override { return 2 * m_n_params * 4; }
    std::int64_t workspace_bytes() const override;
    void zero_grad() override;
    void forward(int chunk, int mb, const float* input, std::byte* saved, float* output) override;
    void recompute(int chunk, int mb, const float* input, std::byte* saved) override;
    void backward_input(int chunk, int mb, const float* dout, std::byte* saved, std::byte* pending,
                        float* dinput) override;
    void backward_weight(int chunk, int mb, const std::byte* saved, const std::byte* pending) override;
    double loss_sum() override { return m_loss_sum; }
    // Gradients are sums over microbatches; the step uses their mean.
    void optimizer_step(int step) override;

    void set_apply_optimizer(bool on) { m_apply_optimizer = on; }
    void set_step(int step) { m_step = step; }

    // Layer l's parameters / gradients (for tests and checkpoints); l must be on this rank.
    bool holds_layer(int l) const;
    const float* layer_params(int l) const;
    const float* layer_grads(int l) const;

private:
    using Chunk = ChunkLayout;
    const Chunk& chunk_of(int c) const;
    // The chunk's layers in order; the last one writes `output` (the ping-pong workspace
    // when output is nullptr and the chunk does not end in the head). Returns the head's loss.
    double run_forward(int c, int mb, const float* input, std::byte* saved, float* output);
    std::size_t slot(int layer) const;  // index into m_layers / offsets

    const ModelConfig m_cfg;
    const TokenData& m_data;
    const std::uint64_t m_data_seed;
    const int m_microbatches;
    const AdamWConfig m_adam;
    std::vector<int> m_chunk_ids;
    std::vector<Chunk> m_chunks;
    std::vector<GptLayer> m_layers;         // this rank's layers, in model order
    std::vector<std::int64_t> m_param_off;  // float offset of each layer in the flat arrays
    std::int64_t m_n_params = 0;
    std::vector<float> m_params, m_grads, m_m, m_v;
    // Workspace reused by every action: two (B, T, C) ping-pong buffers, tokens/targets,
    // and the largest layer scratch.
    std::vector<float> m_ping, m_pong;
    std::vector<int> m_tokens, m_targets;
    std::vector<std::byte> m_scratch;
    double m_loss_sum = 0;
    int m_step = 1;
    bool m_apply_optimizer = true;
};

}  // namespace pipelab::nn
