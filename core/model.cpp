#include "core/model.h"

#include "core/gpt_tensors.h"

namespace pipelab {

namespace {
constexpr std::int64_t kFloat = 4;  // bytes per fp32
}

std::vector<Layer> build_layers(const ModelConfig& cfg) {
    const double B = cfg.microbatch_size, T = cfg.seq_len, C = cfg.d_model;
    const double V = cfg.vocab, F = cfg.d_ff;
    const double BT = B * T;
    const GptDims d = gpt_dims(cfg);

    std::vector<Layer> layers;
    layers.reserve(static_cast<std::size_t>(cfg.layers) + 2);
    // Bytes come from the tensor tables every backend allocates from (core/gpt_tensors.h).
    const auto sized = [&](Layer l) {
        l.params = layer_bytes(l.kind, Buffer::Params, d) / kFloat;
        l.activation_bytes = layer_bytes(l.kind, Buffer::Acts, d);
        l.pending_bytes = layer_bytes(l.kind, Buffer::Pending, d);
        l.scratch_bytes = layer_bytes(l.kind, Buffer::Scratch, d);
        return l;
    };

    Layer emb;
    emb.kind = LayerKind::Embedding;
    emb.name = "embed";
    emb.fwd_flops = BT * C;             // gather + add
    emb.bwd_input_flops = 0;            // token ids have no gradient
    emb.bwd_weight_flops = 2 * BT * C;  // scatter-add into wte and wpe
    layers.push_back(sized(emb));

    // Block: ln1, qkv = ln1 @ Wqkv, causal attention, proj, residual, ln2, fc, gelu, fc2,
    // residual. Matmul FLOPs: 2*BT*(3C*C + C*C + 2*C*F); causal attention scores and
    // weighted sum over the lower triangle: 2 * (2*B*T*T*C) / 2.
    const double matmul = 2 * BT * (3 * C * C + C * C + 2 * C * F);
    const double attn = 2 * B * T * T * C;
    for (int l = 0; l < cfg.layers; ++l) {
        Layer b;
        b.kind = LayerKind::Block;
        b.index = l + 1;
        b.name = "block " + std::to_string(l);
        b.fwd_flops = matmul + attn;
        b.bwd_input_flops = matmul + 2 * attn;  // dX through matmuls, attention backward
        b.bwd_weight_flops = matmul;            // dW = X^T dY for each linear
        layers.push_back(sized(b));
    }

    Layer head;
    head.kind = LayerKind::Head;
    head.index = cfg.layers + 1;
    head.name = "head";
    head.fwd_flops = 2 * BT * C * V + 5 * BT * V;  // logits + softmax/loss
    head.bwd_input_flops = 2 * BT * C * V + 2 * BT * V;
    head.bwd_weight_flops = 2 * BT * C * V;
    layers.push_back(sized(head));
    return layers;
}

std::optional<std::string> check_model_size(const ModelConfig& cfg) {
    // The tables' sums in double, before anything is counted in int64: a bound, so that no
    // later byte count can overflow.
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
