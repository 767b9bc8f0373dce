// GptLayer: tensor tables, init and the forward / I / W / B of the three layer kinds.
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// L number of blocks.
//
// The buffers' layouts (structs of pointers carved from one table each) are in
// core/gpt_tensors.h, shared with the cost model and the CUDA stage.
#include "core/nn/gpt_layer.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "core/nn/ops.h"

namespace pipelab::nn {

// ---- sizes, tables, init (the tables live in core/gpt_tensors) -----------------------------

namespace {
using i64 = std::int64_t;
void zero(float* p, i64 n) { std::memset(p, 0, static_cast<std::size_t>(n) * sizeof(float)); }
}  // namespace

GptLayer::GptLayer(LayerKind kind, int index, GptDims dims) : kind_(kind), index_(index), d_(dims) {
    assert(d_.NH > 0 && d_.C % d_.NH == 0);
}

std::vector<GptLayer> GptLayer::build(const ModelConfig& cfg) {
    const GptDims d = gpt_dims(cfg);
    std::vector<GptLayer> layers;
    layers.emplace_back(LayerKind::Embedding, 0, d);
    for (int l = 1; l <= d.L; ++l) layers.emplace_back(LayerKind::Block, l, d);
    layers.emplace_back(LayerKind::Head, d.L + 1, d);
    return layers;
}

std::int64_t GptLayer::param_count() const { return layer_bytes(kind_, Buffer::Params, d_) / 4; }
std::int64_t GptLayer::activation_bytes() const { return layer_bytes(kind_, Buffer::Acts, d_); }
std::int64_t GptLayer::pending_bytes() const { return layer_bytes(kind_, Buffer::Pending, d_); }
std::int64_t GptLayer::scratch_bytes() const { return layer_bytes(kind_, Buffer::Scratch, d_); }

std::vector<TensorView> GptLayer::params(float* base) const { return layer_views(kind_, Buffer::Params, d_, base); }
std::vector<TensorView> GptLayer::activations(std::byte* base) const {
    return layer_views(kind_, Buffer::Acts, d_, base);
}
std::vector<TensorView> GptLayer::pending(std::byte* base) const {
    return layer_views(kind_, Buffer::Pending, d_, base);
}

void GptLayer::init_params(float* params, std::uint64_t seed) const {
    init_layer_params(kind_, index_, d_, params, seed);
}

// ---- forward / I / W / B -------------------------------------------------------------------

namespace {

// Pre-LN block: res2 = x + attproj(attention(qkv(ln1(x)))),
//               out  = res2 + fcproj(gelu(fc(ln2(res2)))).
void block_forward(const GptDims& d, const float* params, const float* x, float* out, std::byte* acts) {
    const int B = d.B, T = d.T, C = d.C, F = d.F, NH = d.NH;
    const i64 BTC = i64{B} * T * C;
    const auto w = carved<BlockParams>(d, params);
    const auto a = carved<BlockActs>(d, acts);
    std::memcpy(a.inp, x, static_cast<std::size_t>(BTC) * sizeof(float));
    layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, a.inp, w.ln1w, w.ln1b, B, T, C);
    matmul_forward(a.qkv, a.ln1, w.qkvw, w.qkvb, B, T, C, 3 * C);
    attention_forward(a.atty, a.att, a.qkv, B, T, C, NH);
    matmul_forward(out, a.atty, w.attprojw, w.attprojb, B, T, C, C);  // out: attproj (B, T, C)
    residual_forward(a.res2, a.inp, out, BTC);
    layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.res2, w.ln2w, w.ln2b, B, T, C);
    matmul_forward(a.fch, a.ln2, w.fcw, w.fcb, B, T, C, F);
    gelu_forward(a.fch_gelu, a.fch, i64{B} * T * F);
    matmul_forward(out, a.fch_gelu, w.fcprojw, w.fcprojb, B, T, F, C);  // out: fcproj
    residual_forward(out, a.res2, out, BTC);
}

// I: every matmul/LayerNorm backward split, input half only; the douts that the weight
// halves need stay in `pending` (BlockPending), the rest in `scratch`.
void block_backward_input(const GptDims& d, const float* params, const float* dout, const std::byte* acts,
                          std::byte* pending, std::byte* scratch, float* dinp) {
    const int B = d.B, T = d.T, C = d.C, F = d.F, NH = d.NH;
    const i64 BTC = i64{B} * T * C;
    const auto w = carved<BlockParams>(d, params);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    const auto s = carved<BlockScratch>(d, scratch);
    zero(reinterpret_cast<float*>(pending), bytes_of<BlockPending>(d) / 4);
    zero(reinterpret_cast<float*>(scratch), bytes_of<BlockScratch>(d) / 4);
    residual_backward(p.dres2, p.dout, dout, BTC);  // p.dout: dout of fcproj, a copy
    matmul_backward_input(s.dfch_gelu, p.dout, w.fcprojw, B, T, F, C);
    gelu_backward(p.dfch, a.fch, s.dfch_gelu, i64{B} * T * F);
    matmul_backward_input(p.dln2, p.dfch, w.fcw, B, T, C, F);
    layernorm_backward_input(p.dres2, p.dln2, a.res2, w.ln2w, a.ln2_mean, a.ln2_rstd, B, T, C);
    // res2 = inp + attproj: d inp = d res2, and d res2 is also attproj's dout
    std::memcpy(dinp, p.dres2, static_cast<std::size_t>(BTC) * sizeof(float));
    matmul_backward_input(s.datty, p.dres2, w.attprojw, B, T, C, C);
    attention_backward(p.dqkv, s.datt, s.datty, a.qkv, a.att, B, T, C, NH);
    matmul_backward_input(p.dln1, p.dqkv, w.qkvw, B, T, C, 3 * C);
    layernorm_backward_input(dinp, p.dln1, a.inp, w.ln1w, a.ln1_mean, a.ln1_rstd, B, T, C);
}

// W: the weight halves, from the saved inputs of each op (acts) and its dout (pending).
void block_backward_weight(const GptDims& d, float* grads, const std::byte* acts, const std::byte* pending) {
    const int B = d.B, T = d.T, C = d.C, F = d.F;
    const auto g = carved<BlockParams>(d, grads);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    matmul_backward_weight(g.fcprojw, g.fcprojb, p.dout, a.fch_gelu, B, T, F, C);
    matmul_backward_weight(g.fcw, g.fcb, p.dfch, a.ln2, B, T, C, F);
    layernorm_backward_weight(g.ln2w, g.ln2b, p.dln2, a.res2, a.ln2_mean, a.ln2_rstd, B, T, C);
    matmul_backward_weight(g.attprojw, g.attprojb, p.dres2, a.atty, B, T, C, C);
    matmul_backward_weight(g.qkvw, g.qkvb, p.dqkv, a.ln1, B, T, C, 3 * C);
    layernorm_backward_weight(g.ln1w, g.ln1b, p.dln1, a.inp, a.ln1_mean, a.ln1_rstd, B, T, C);
}

// B in one go with the fused llm.c ops (matmul_backward, layernorm_backward).
void block_backward(const GptDims& d, const float* params, float* grads, const float* dout, const std::byte* acts,
                    std::byte* pending, std::byte* scratch, float* dinp) {
    const int B = d.B, T = d.T, C = d.C, F = d.F, NH = d.NH;
    const i64 BTC = i64{B} * T * C;
    const auto w = carved<BlockParams>(d, params);
    const auto g = carved<BlockParams>(d, grads);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    const auto s = carved<BlockScratch>(d, scratch);
    zero(reinterpret_cast<float*>(pending), bytes_of<BlockPending>(d) / 4);
    zero(reinterpret_cast<float*>(scratch), bytes_of<BlockScratch>(d) / 4);
    residual_backward(p.dres2, p.dout, dout, BTC);
    matmul_backward(s.dfch_gelu, g.fcprojw, g.fcprojb, p.dout, a.fch_gelu, w.fcprojw, B, T, F, C);
    gelu_backward(p.dfch, a.fch, s.dfch_gelu, i64{B} * T * F);
    matmul_backward(p.dln2, g.fcw, g.fcb, p.dfch, a.ln2, w.fcw, B, T, C, F);
    layernorm_backward(p.dres2, g.ln2w, g.ln2b, p.dln2, a.res2, w.ln2w, a.ln2_mean, a.ln2_rstd, B, T, C);
    std::memcpy(dinp, p.dres2, static_cast<std::size_t>(BTC) * sizeof(float));
    matmul_backward(s.datty, g.attprojw, g.attprojb, p.dres2, a.atty, w.attprojw, B, T, C, C);
    attention_backward(p.dqkv, s.datt, s.datty, a.qkv, a.att, B, T, C, NH);
    matmul_backward(p.dln1, g.qkvw, g.qkvb, p.dqkv, a.ln1, w.qkvw, B, T, C, 3 * C);
    layernorm_backward(dinp, g.ln1w, g.ln1b, p.dln1, a.inp, w.ln1w, a.ln1_mean, a.ln1_rstd, B, T, C);
}

}  // namespace

float GptLayer::forward(const float* params, const LayerInput& in, float* out, std::byte* acts) const {
    const i64 BT = i64{d_.B} * d_.T;
    const auto bytes = static_cast<std::size_t>(BT) * 4;
    switch (kind_) {
    case LayerKind::Embedding: {
        const auto w = carved<EmbedParams>(d_, params);
        const auto a = carved<EmbedActs>(d_, acts);
        std::memcpy(a.tokens, in.tokens, bytes);
        encoder_forward(out, a.tokens, w.wte, w.wpe, d_.B, d_.T, d_.C);
        return 0.0f;
    }
    case LayerKind::Block: block_forward(d_, params, in.x, out, acts); return 0.0f;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d_, params);
        const auto a = carved<HeadActs>(d_, acts);
        std::memcpy(a.inp, in.x, bytes * static_cast<std::size_t>(d_.C));
        std::memcpy(a.targets, in.targets, bytes);
        layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, a.inp, w.lnfw, w.lnfb, d_.B, d_.T, d_.C);
        matmul_forward(a.probs, a.lnf, w.wlm, nullptr, d_.B, d_.T, d_.C, d_.V);  // logits
        crossentropy_softmax_forward(a.probs, a.losses, a.probs, a.targets, d_.B, d_.T, d_.V);
        double sum = 0.0;
        for (i64 i = 0; i < BT; ++i) sum += a.losses[i];
        return static_cast<float>(sum / static_cast<double>(BT));
    }
    }
    return 0.0f;
}

void GptLayer::backward_input(const float* params, const float* dout, const std::byte* acts, std::byte* pending,
                              std::byte* scratch, float* dinp) const {
    const i64 BT = i64{d_.B} * d_.T, BTC = BT * d_.C;
    switch (kind_) {
    case LayerKind::Embedding: {  // token ids have no gradient: only park dout for W
        const auto p = carved<EmbedPending>(d_, pending);
        std::memcpy(p.dout, dout, static_cast<std::size_t>(BTC) * sizeof(float));
        return;
    }
    case LayerKind::Block: block_backward_input(d_, params, dout, acts, pending, scratch, dinp); return;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d_, params);
        const auto a = carved<HeadActs>(d_, acts);
        const auto p = carved<HeadPending>(d_, pending);
        zero(p.dlogits, BT * d_.V);
        zero(p.dlnf, BTC);
        zero(dinp, BTC);
        const float dloss = 1.0f / static_cast<float>(BT);  // mean over B*T
        crossentropy_softmax_backward(p.dlogits, a.probs, a.targets, dloss, d_.B, d_.T, d_.V);
        matmul_backward_input(p.dlnf, p.dlogits, w.wlm, d_.B, d_.T, d_.C, d_.V);
        layernorm_backward_input(dinp, p.dlnf, a.inp, w.lnfw, a.lnf_mean, a.lnf_rstd, d_.B, d_.T, d_.C);
        return;
    }
    }
}

void GptLayer::backward_weight(float* grads, const std::byte* acts, const std::byte* pending) const {
    switch (kind_) {
    case LayerKind::Embedding: {
        const auto g = carved<EmbedParams>(d_, grads);
        const auto a = carved<EmbedActs>(d_, acts);
        const auto p = carved<EmbedPending>(d_, pending);
        encoder_backward(g.wte, g.wpe, p.dout, a.tokens, d_.B, d_.T, d_.C);
        return;
    }
    case LayerKind::Block: block_backward_weight(d_, grads, acts, pending); return;
    case LayerKind::Head: {
        const auto g = carved<HeadParams>(d_, grads);
        const auto a = carved<HeadActs>(d_, acts);
        const auto p = carved<HeadPending>(d_, pending);
        matmul_backward_weight(g.wlm, nullptr, p.dlogits, a.lnf, d_.B, d_.T, d_.C, d_.V);
        layernorm_backward_weight(g.lnfw, g.lnfb, p.dlnf, a.inp, a.lnf_mean, a.lnf_rstd, d_.B, d_.T, d_.C);
        return;
    }
    }
}

void GptLayer::backward(const float* params, float* grads, const float* dout, const std::byte* acts, std::byte* pending,
                        std::byte* scratch, float* dinp) const {
    const i64 BT = i64{d_.B} * d_.T, BTC = BT * d_.C;
    switch (kind_) {
    case LayerKind::Embedding: {
        const auto g = carved<EmbedParams>(d_, grads);
        const auto a = carved<EmbedActs>(d_, acts);
        encoder_backward(g.wte, g.wpe, dout, a.tokens, d_.B, d_.T, d_.C);
        return;
    }
    case LayerKind::Block: block_backward(d_, params, grads, dout, acts, pending, scratch, dinp); return;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d_, params);
        const auto g = carved<HeadParams>(d_, grads);
        const auto a = carved<HeadActs>(d_, acts);
        const auto p = carved<HeadPending>(d_, pending);
        zero(p.dlogits, BT * d_.V);
        zero(p.dlnf, BTC);
        zero(dinp, BTC);
        const float dloss = 1.0f / static_cast<float>(BT);
        crossentropy_softmax_backward(p.dlogits, a.probs, a.targets, dloss, d_.B, d_.T, d_.V);
        matmul_backward(p.dlnf, g.wlm, nullptr, p.dlogits, a.lnf, w.wlm, d_.B, d_.T, d_.C, d_.V);
        layernorm_backward(dinp, g.lnfw, g.lnfb, p.dlnf, a.inp, w.lnfw, a.lnf_mean, a.lnf_rstd, d_.B, d_.T, d_.C);
        return;
    }
    }
}

}  // namespace pipelab::nn
