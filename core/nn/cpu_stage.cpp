#include "core/nn/cpu_stage.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pipelab::nn {

CpuStage::CpuStage(const ModelConfig& cfg, const Partition& part, std::vector<int> chunks, std::uint64_t seed,
                   const TokenData& data, std::uint64_t data_seed, int n_microbatches, AdamWConfig adam)
    : m_cfg(cfg), m_data(data), m_data_seed(data_seed), m_microbatches(n_microbatches), m_adam(adam),
      m_chunk_ids(std::move(chunks)) {
    const std::vector<GptLayer> all = GptLayer::build(cfg);
    std::int64_t max_scratch = 0;
    const GptDims d = gpt_dims(cfg);
    for (int c : m_chunk_ids) {
        Chunk ch = chunk_layout(d, part.first_layer(c), part.end_layer(c));
        max_scratch = std::max(max_scratch, ch.max_scratch_bytes);
        for (int l = ch.first; l < ch.end; ++l) {
            m_layers.push_back(all[static_cast<std::size_t>(l)]);
            m_param_off.push_back(m_n_params);
            m_n_params += m_layers.back().param_count();
        }
        m_chunks.push_back(std::move(ch));
    }
    const auto n = static_cast<std::size_t>(m_n_params);
    m_params.assign(n, 0.0f);
    m_grads.assign(n, 0.0f);
    m_m.assign(n, 0.0f);
    m_v.assign(n, 0.0f);
    for (std::size_t i = 0; i < m_layers.size(); ++i) m_layers[i].init_params(m_params.data() + m_param_off[i], seed);
    const auto btc = static_cast<std::size_t>(cfg.microbatch_size) * cfg.seq_len * cfg.d_model;
    const auto bt = static_cast<std::size_t>(cfg.microbatch_size) * cfg.seq_len;
    m_ping.assign(btc, 0.0f);
    m_pong.assign(btc, 0.0f);
    m_tokens.assign(bt, 0);
    m_targets.assign(bt, 0);
    m_scratch.assign(static_cast<std::size_t>(max_scratch), std::byte{0});
}

const CpuStage::Chunk& CpuStage::chunk_of(int c) const {
    for (std::size_t i = 0; i < m_chunk_ids.size(); ++i)
        if (m_chunk_ids[i] == c) return m_chunks[i];
    throw std::logic_error("chunk " + std::to_string(c) + " is not on this rank");
}

std::size_t CpuStage::slot(int layer) const {
    for (std::size_t i = 0; i < m_layers.size(); ++i)
        if (m_layers[i].index() == layer) return i;
    throw std::logic_error("layer " + std::to_string(layer) + " is not on this rank");
}

bool CpuStage::holds_layer(int l) const {
    return std::any_of(m_layers.begin(), m_layers.end(), [l](const GptLayer& x) { return x.index() == l; });
}
const float* CpuStage::layer_params(int l) const { return m_params.data() + m_param_off[slot(l)]; }
const float* CpuStage::layer_grads(int l) const { return m_grads.data() + m_param_off[slot(l)]; }

ChunkSizes CpuStage::buffers(int c) const {
    const Chunk& ch = chunk_of(c);
    return {ch.act_bytes, ch.pend_bytes,
            static_cast<std::int64_t>(m_cfg.microbatch_size) * m_cfg.seq_len * m_cfg.d_model * 4};
}

std::int64_t CpuStage::workspace_bytes() const {
    return static_cast<std::int64_t>((m_ping.size() + m_pong.size()) * sizeof(float) +
                                     (m_tokens.size() + m_targets.size()) * sizeof(int) + m_scratch.size());
}

void CpuStage::zero_grad() {
    std::fill(m_grads.begin(), m_grads.end(), 0.0f);
    m_loss_sum = 0;
}

void CpuStage::forward(int c, int mb, const float* input, std::byte* saved, float* output) {
    m_loss_sum += run_forward(c, mb, input, saved, output);
}

// The same arithmetic as the forward, so the backward sees bit-identical activations; the
// output is not needed again and the loss was counted by the forward.
void CpuStage::recompute(int c, int mb, const float* input, std::byte* saved) {
    run_forward(c, mb, input, saved, nullptr);
}

double CpuStage::run_forward(int c, int mb, const float* input, std::byte* saved, float* output) {
    const Chunk& ch = chunk_of(c);
    const bool has_embed = ch.first == 0;
    const bool has_head = ch.end == m_cfg.layers + 2;
    if (has_embed || has_head)
        m_data.batch(m_data_seed, m_step, mb, m_cfg.microbatch_size, m_cfg.seq_len, m_tokens.data(), m_targets.data());
    std::byte* acts = saved;
    const float* x = input;
    double loss = 0;
    for (int l = ch.first; l < ch.end; ++l) {
        const std::size_t i = slot(l);
        const std::size_t k = static_cast<std::size_t>(l - ch.first);
        float* next = x == m_ping.data() ? m_pong.data() : m_ping.data();
        float* out = l + 1 == ch.end && output != nullptr ? output : next;
        LayerInput in{x, m_tokens.data(), m_targets.data()};
        loss = m_layers[i].forward(m_params.data() + m_param_off[i], in, out, acts + ch.act_off[k]);
        x = out;
    }
    return has_head ? loss : 0.0;
}

// Layers in reverse; gradients between layers ping-pong, the first layer writes dinput.
void CpuStage::backward_input(int c, int, const float* dout, std::byte* saved, std::byte* pending, float* dinput) {
    const Chunk& ch = chunk_of(c);
    const std::byte* acts = saved;
    std::byte* pend = pending;
    const float* g = dout;
    for (int l = ch.end - 1; l >= ch.first; --l) {
        const std::size_t i = slot(l);
        const std::size_t k = static_cast<std::size_t>(l - ch.first);
        float* dx = l == ch.first ? dinput : (g == m_ping.data() ? m_pong.data() : m_ping.data());
        m_layers[i].backward_input(m_params.data() + m_param_off[i], g, acts + ch.act_off[k], pend + ch.pend_off[k],
                                   m_scratch.data(), dx);
        g = dx;
    }
}

void CpuStage::backward_weight(int c, int, const std::byte* saved, const std::byte* pending) {
    const Chunk& ch = chunk_of(c);
    const std::byte* acts = saved;
    const std::byte* pend = pending;
    for (int l = ch.first; l < ch.end; ++l) {
        const std::size_t i = slot(l);
        const std::size_t k = static_cast<std::size_t>(l - ch.first);
        m_layers[i].backward_weight(m_grads.data() + m_param_off[i], acts + ch.act_off[k], pend + ch.pend_off[k]);
    }
}

void CpuStage::optimizer_step(int step) {
    if (!m_apply_optimizer) return;
    // Gradients summed over m microbatches; the loss is their mean.
    const float scale = 1.0f / static_cast<float>(m_microbatches);
    for (float& g : m_grads) g *= scale;
    adamw_step(m_params.data(), m_grads.data(), m_m.data(), m_v.data(), m_n_params, m_adam, step);
}

}  // namespace pipelab::nn
