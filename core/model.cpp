#include "core/model.h"

namespace pipelab {

namespace {
constexpr std::int64_t kFloat = 4;  // bytes per fp32
}

std::vector<Layer> build_layers(const ModelConfig& cfg) {
    const double B = cfg.microbatch_size, T = cfg.seq_len, C = cfg.d_model;
    const double V = cfg.vocab, F = cfg.d_ff, H = cfg.heads;
    const double BT = B * T;
    const auto i64 = [](double x) { return static_cast<std::int64_t>(x); };

    std::vector<Layer> layers;
    layers.reserve(static_cast<std::size_t>(cfg.layers) + 2);

    Layer emb;
    emb.kind = LayerKind::Embedding;
    emb.name = "embed";
    emb.params = i64(V * C + T * C);      // wte (V, C) + wpe (T, C)
    emb.fwd_flops = BT * C;               // gather + add
    emb.bwd_input_flops = 0;              // token ids have no gradient
    emb.bwd_weight_flops = 2 * BT * C;    // scatter-add into wte and wpe
    emb.activation_bytes = i64(BT) * 4;   // only the token ids are kept: (B, T) int32
    layers.push_back(emb);

    // Block: ln1, qkv = ln1 @ Wqkv, causal attention, proj, residual, ln2, fc, gelu, fc2,
    // residual. Matmul FLOPs: 2*BT*(3C*C + C*C + 2*C*F); causal attention scores and
    // weighted sum over the lower triangle: 2 * (2*B*T*T*C) / 2.
    const double matmul = 2 * BT * (3 * C * C + C * C + 2 * C * F);
    const double attn = 2 * B * T * T * C;
    const double block_params = 2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * F + F) +
                                (F * C + C);
    // Saved for backward, exactly the buffers of core/nn (BlockActs in gpt_layer.cpp): the
    // block's own copy of its input, ln1, qkv, attention output, attention probabilities
    // (B,H,T,T), residual2, ln2, fc pre- and post-GELU, plus the two LayerNorms' means and
    // reciprocal std (2 * 2 * BT). Not counted: the I -> W douts (core/nn pending_bytes).
    const double block_act = BT * C + BT * C + 3 * BT * C + BT * C + B * H * T * T + BT * C +
                             BT * C + 2 * BT * F + 4 * BT;
    for (int l = 0; l < cfg.layers; ++l) {
        Layer b;
        b.kind = LayerKind::Block;
        b.index = l + 1;
        b.name = "block " + std::to_string(l);
        b.params = i64(block_params);
        b.fwd_flops = matmul + attn;
        b.bwd_input_flops = matmul + 2 * attn;  // dX through matmuls, attention backward
        b.bwd_weight_flops = matmul;             // dW = X^T dY for each linear
        b.activation_bytes = i64(block_act) * kFloat;
        layers.push_back(b);
    }

    Layer head;
    head.kind = LayerKind::Head;
    head.index = cfg.layers + 1;
    head.name = "head";
    head.params = i64(2 * C + C * V);      // lnf weight + bias (C) each + LM head (V, C), untied
    head.fwd_flops = 2 * BT * C * V + 5 * BT * V;  // logits + softmax/loss
    head.bwd_input_flops = 2 * BT * C * V + 2 * BT * V;
    head.bwd_weight_flops = 2 * BT * C * V;
    // Saved (HeadActs in core/nn): input copy, lnf, its stats, probs, per-position losses,
    // targets (int32): all 4-byte elements.
    head.activation_bytes = i64(2 * BT * C + 2 * BT + BT * V + 2 * BT) * kFloat;
    layers.push_back(head);
    return layers;
}

std::optional<std::string> check_model_size(const ModelConfig& cfg) {
    // Same formulas as build_layers, in double so that nothing overflows while checking.
    const double B = cfg.microbatch_size, T = cfg.seq_len, C = cfg.d_model, V = cfg.vocab;
    const double F = cfg.d_ff, H = cfg.heads, L = cfg.layers, BT = B * T;
    const double params = 4 * (V * C + T * C + L * (4 * C + 4 * C * C + 2 * C * F + 7 * C + F) + 2 * C + C * V);
    const double acts = 4 * (BT + L * (8 * BT * C + 4 * BT + 2 * BT * F + B * H * T * T) + BT * (2 * C + V + 4));
    constexpr double kLimit = 1099511627776.0;  // 1 TiB
    const auto gib = [](double b) { return std::to_string(static_cast<long long>(b / (1 << 30))); };
    if (params > kLimit)
        return "the parameters would take " + gib(params) + " GiB (limit 1 TiB): lower d_model, d_ff, vocab or layers";
    if (acts > kLimit)
        return "one microbatch's activations would take " + gib(acts) +
               " GiB (limit 1 TiB): lower seq_len, microbatch_size, d_model, heads or layers";
    return std::nullopt;
}

std::int64_t boundary_activation_bytes(const ModelConfig& cfg) {
    return static_cast<std::int64_t>(cfg.microbatch_size) * cfg.seq_len * cfg.d_model * kFloat;
}

}  // namespace pipelab
