#pragma once
// The GPT layers' forward, backward-input (I) and backward-weight (W) written once over an
// `Ops` object, on the tensor tables of core/gpt_tensors.h. The CUDA stage runs them with
// CudaOps (kernels and cuBLAS on the rank's stream); the host tests run the same code with
// HostOps (the kernels' host twins and a naive column-major GEMM) and compare every
// layer's outputs and gradients with core/nn's GptLayer. The sequence of ops and every
// matmul's shape follow core/nn/gpt_layer.cpp one for one, so the I/W split is the same.
//
// Ops supplies (all pointers in its memory, every backward accumulates +=):
//   zero(p, n), copy(dst, src, n), copy_i32(dst, src, n), gemm(GemmRM)
//   bias_broadcast(out, bias, N, OC), bias_backward(dbias, dout, N, OC)
//   encoder_forward(out, tok, wte, wpe, B, T, C), encoder_backward(dwte, dwpe, dout, tok, B, T, C)
//   layernorm_forward(out, mean, rstd, x, w, b, N, C)
//   layernorm_backward_input(dx, dout, x, w, mean, rstd, N, C)
//   layernorm_backward_weight(dw, db, dout, x, mean, rstd, N, C)
//   causal_softmax_forward(att, rows, T), causal_softmax_backward(datt, att, rows, T)
//   gelu_forward(out, x, N), gelu_backward(dx, x, dout, N)
//   residual_forward(out, a, b, N), residual_backward(da, db, dout, N)
//   crossentropy_forward(probs, losses, logits, targets, N, V)
//   crossentropy_backward(dlogits, probs, targets, dloss, N, V)
//   add_mean_loss(losses, N)      the loss sum += mean of losses
//
// Letters: B microbatch size, T sequence length, C d_model, NH heads, hs = C / NH head
// size, F d_ff, V vocab, N = B*T rows.
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/gpt_tensors.h"
#include "gpu/gemm_plan.h"

namespace pipelab::gpu {

using i64 = std::int64_t;

// A block's scratch on the GPU: the table's layout with its last tensor, datt, grown from
// one head's (T, T) to every head's (NH, T, T), so that attention's backward GEMMs run
// batched over heads instead of one head at a time.
inline i64 gpu_layer_scratch_bytes(LayerKind kind, const GptDims& d) {
    if (kind != LayerKind::Block) return 0;
    return bytes_of<BlockScratch>(d) + i64{d.NH - 1} * d.T * d.T * 4;
}

inline int gemm_dim(i64 n, const char* what) {
    if (n <= 0 || n > INT_MAX)
        throw std::invalid_argument(std::string("GEMM ") + what + ": size " + std::to_string(n) + " out of range");
    return static_cast<int>(n);
}

// ---- linear: out = inp @ W^T + bias --------------------------------------------------------

template <class Ops>
void matmul_forward(Ops& ops, float* out, const float* inp, const float* w, const float* bias, i64 N, int C, int OC) {
    if (bias != nullptr) ops.bias_broadcast(out, bias, N, OC);  // then out += inp @ W^T
    GemmRM g;                                                   // out (N, OC) = inp (N, C) @ w^T (C, OC)
    g.tb = true;
    g.M = gemm_dim(N, "matmul_forward");
    g.N = OC;
    g.K = C;
    g.A = inp, g.lda = C;
    g.B = w, g.ldb = C;
    g.C = out, g.ldc = OC;
    g.beta = bias != nullptr ? 1.0f : 0.0f;
    ops.gemm(g);
}

// I: dinp (N, C) += dout (N, OC) @ W (OC, C)
template <class Ops>
void matmul_backward_input(Ops& ops, float* dinp, const float* dout, const float* w, i64 N, int C, int OC) {
    GemmRM g;
    g.M = gemm_dim(N, "matmul_backward_input");
    g.N = C;
    g.K = OC;
    g.A = dout, g.lda = OC;
    g.B = w, g.ldb = C;
    g.C = dinp, g.ldc = C;
    g.beta = 1.0f;
    ops.gemm(g);
}

// W: dW (OC, C) += dout^T (OC, N) @ inp (N, C); dbias += column sums of dout.
template <class Ops>
void matmul_backward_weight(Ops& ops, float* dw, float* dbias, const float* dout, const float* inp, i64 N, int C,
                            int OC) {
    GemmRM g;
    g.ta = true;  // A = dout stored (N, OC)
    g.M = OC;
    g.N = C;
    g.K = gemm_dim(N, "matmul_backward_weight");
    g.A = dout, g.lda = OC;
    g.B = inp, g.ldb = C;
    g.C = dw, g.ldc = C;
    g.beta = 1.0f;
    ops.gemm(g);
    if (dbias != nullptr) ops.bias_backward(dbias, dout, N, OC);
}

// ---- causal self-attention ------------------------------------------------------------------
// qkv (B, T, 3C): q, k, v side by side; head h owns channels [h*hs, (h+1)*hs) of each, so
// head h of q is a (T, hs) matrix with row stride 3C starting at channel h*hs: the heads of
// one sequence are one strided batch (stride hs). Scores are computed over the full (T, T)
// square and masked by the softmax, as core/nn does.

template <class Ops>
void attention_forward(Ops& ops, float* out, float* att, const float* qkv, int B, int T, int C, int NH) {
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    const i64 TT = i64{T} * T;
    for (int b = 0; b < B; ++b) {
        const float* q = qkv + i64{b} * T * C3;  // (NH) x (T, hs), row stride 3C
        GemmRM s;                                // att_bh (T, T) = scale * q_h @ k_h^T
        s.tb = true;
        s.M = T, s.N = T, s.K = hs;
        s.A = q, s.lda = C3, s.sA = hs;
        s.B = q + C, s.ldb = C3, s.sB = hs;
        s.C = att + i64{b} * NH * TT, s.ldc = T, s.sC = TT;
        s.alpha = scale;
        s.batch = NH;
        ops.gemm(s);
    }
    ops.causal_softmax_forward(att, i64{B} * NH * T, T);
    for (int b = 0; b < B; ++b) {
        const float* v = qkv + i64{b} * T * C3 + 2 * C;
        GemmRM o;  // out_bh (T, hs) = att_bh (T, T) @ v_h (T, hs), written at channel h*hs
        o.M = T, o.N = hs, o.K = T;
        o.A = att + i64{b} * NH * TT, o.lda = T, o.sA = TT;
        o.B = v, o.ldb = C3, o.sB = hs;
        o.C = out + i64{b} * T * C, o.ldc = C, o.sC = hs;
        o.batch = NH;
        ops.gemm(o);
    }
}

// dqkv (B, T, 3C) +=; datt: (NH, T, T) work space.
template <class Ops>
void attention_backward(Ops& ops, float* dqkv, float* datt, const float* dout, const float* qkv, const float* att,
                        int B, int T, int C, int NH) {
    const int hs = C / NH, C3 = 3 * C;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    const i64 TT = i64{T} * T;
    for (int b = 0; b < B; ++b) {
        const float* q = qkv + i64{b} * T * C3;
        const float* k = q + C;
        const float* v = q + 2 * C;
        float* dq = dqkv + i64{b} * T * C3;
        float* dk = dq + C;
        float* dv = dq + 2 * C;
        const float* att_b = att + i64{b} * NH * TT;
        const float* dout_b = dout + i64{b} * T * C;
        // out = att @ v, so datt = dout @ v^T ...
        GemmRM g1;
        g1.tb = true;
        g1.M = T, g1.N = T, g1.K = hs;
        g1.A = dout_b, g1.lda = C, g1.sA = hs;
        g1.B = v, g1.ldb = C3, g1.sB = hs;
        g1.C = datt, g1.ldc = T, g1.sC = TT;
        g1.batch = NH;
        ops.gemm(g1);
        // ... and dv += att^T @ dout
        GemmRM g2;
        g2.ta = true;
        g2.M = T, g2.N = hs, g2.K = T;
        g2.A = att_b, g2.lda = T, g2.sA = TT;
        g2.B = dout_b, g2.ldb = C, g2.sB = hs;
        g2.C = dv, g2.ldc = C3, g2.sC = hs;
        g2.beta = 1.0f;
        g2.batch = NH;
        ops.gemm(g2);
        // through the softmax: datt becomes d preatt in place
        ops.causal_softmax_backward(datt, att_b, i64{NH} * T, T);
        // preatt = scale * q @ k^T, so dq += scale * dpreatt @ k ...
        GemmRM g3;
        g3.M = T, g3.N = hs, g3.K = T;
        g3.A = datt, g3.lda = T, g3.sA = TT;
        g3.B = k, g3.ldb = C3, g3.sB = hs;
        g3.C = dq, g3.ldc = C3, g3.sC = hs;
        g3.alpha = scale, g3.beta = 1.0f;
        g3.batch = NH;
        ops.gemm(g3);
        // ... and dk += scale * dpreatt^T @ q
        GemmRM g4 = g3;
        g4.ta = true;
        g4.B = q;
        g4.C = dk;
        ops.gemm(g4);
    }
}

// ---- the layers -------------------------------------------------------------------------

struct LayerArgs {
    const float* x = nullptr;      // (B, T, C) block and head input
    const int* tokens = nullptr;   // (B, T) embedding input
    const int* targets = nullptr;  // (B, T) head only
};

// Pre-LN block: res2 = x + attproj(attention(qkv(ln1(x)))),
//               out  = res2 + fcproj(gelu(fc(ln2(res2)))).
template <class Ops>
void block_forward(Ops& ops, const GptDims& d, const float* params, const float* x, float* out, std::byte* acts) {
    const i64 N = i64{d.B} * d.T, NC = N * d.C;
    const int C = d.C, F = d.F;
    const auto w = carved<BlockParams>(d, params);
    const auto a = carved<BlockActs>(d, acts);
    ops.copy(a.inp, x, NC);
    ops.layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, a.inp, w.ln1w, w.ln1b, N, C);
    matmul_forward(ops, a.qkv, a.ln1, w.qkvw, w.qkvb, N, C, 3 * C);
    attention_forward(ops, a.atty, a.att, a.qkv, d.B, d.T, C, d.NH);
    matmul_forward(ops, out, a.atty, w.attprojw, w.attprojb, N, C, C);  // out: attproj
    ops.residual_forward(a.res2, a.inp, out, NC);
    ops.layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.res2, w.ln2w, w.ln2b, N, C);
    matmul_forward(ops, a.fch, a.ln2, w.fcw, w.fcb, N, C, F);
    ops.gelu_forward(a.fch_gelu, a.fch, N * F);
    matmul_forward(ops, out, a.fch_gelu, w.fcprojw, w.fcprojb, N, F, C);  // out: fcproj
    ops.residual_forward(out, a.res2, out, NC);
}

// I: the input half of every linear and LayerNorm; the douts the weight halves need stay
// in pending (BlockPending), the rest in scratch.
template <class Ops>
void block_backward_input(Ops& ops, const GptDims& d, const float* params, const float* dout, const std::byte* acts,
                          std::byte* pending, std::byte* scratch, float* dinp) {
    const i64 N = i64{d.B} * d.T, NC = N * d.C;
    const int C = d.C, F = d.F;
    const auto w = carved<BlockParams>(d, params);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    const auto s = carved<BlockScratch>(d, scratch);
    ops.zero(reinterpret_cast<float*>(pending), bytes_of<BlockPending>(d) / 4);
    ops.zero(s.dfch_gelu, N * F);  // accumulated into; datt is written whole (beta 0)
    ops.zero(s.datty, NC);
    ops.residual_backward(p.dres2, p.dout, dout, NC);  // p.dout: dout of fcproj, a copy
    matmul_backward_input(ops, s.dfch_gelu, p.dout, w.fcprojw, N, F, C);
    ops.gelu_backward(p.dfch, a.fch, s.dfch_gelu, N * F);
    matmul_backward_input(ops, p.dln2, p.dfch, w.fcw, N, C, F);
    ops.layernorm_backward_input(p.dres2, p.dln2, a.res2, w.ln2w, a.ln2_mean, a.ln2_rstd, N, C);
    // res2 = inp + attproj: d inp = d res2, and d res2 is also attproj's dout
    ops.copy(dinp, p.dres2, NC);
    matmul_backward_input(ops, s.datty, p.dres2, w.attprojw, N, C, C);
    attention_backward(ops, p.dqkv, s.datt, s.datty, a.qkv, a.att, d.B, d.T, C, d.NH);
    matmul_backward_input(ops, p.dln1, p.dqkv, w.qkvw, N, C, 3 * C);
    ops.layernorm_backward_input(dinp, p.dln1, a.inp, w.ln1w, a.ln1_mean, a.ln1_rstd, N, C);
}

// W: the weight halves, from each op's saved input (acts) and its dout (pending).
template <class Ops>
void block_backward_weight(Ops& ops, const GptDims& d, float* grads, const std::byte* acts, const std::byte* pending) {
    const i64 N = i64{d.B} * d.T;
    const int C = d.C, F = d.F;
    const auto g = carved<BlockParams>(d, grads);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    matmul_backward_weight(ops, g.fcprojw, g.fcprojb, p.dout, a.fch_gelu, N, F, C);
    matmul_backward_weight(ops, g.fcw, g.fcb, p.dfch, a.ln2, N, C, F);
    ops.layernorm_backward_weight(g.ln2w, g.ln2b, p.dln2, a.res2, a.ln2_mean, a.ln2_rstd, N, C);
    matmul_backward_weight(ops, g.attprojw, g.attprojb, p.dres2, a.atty, N, C, C);
    matmul_backward_weight(ops, g.qkvw, g.qkvb, p.dqkv, a.ln1, N, C, 3 * C);
    ops.layernorm_backward_weight(g.ln1w, g.ln1b, p.dln1, a.inp, a.ln1_mean, a.ln1_rstd, N, C);
}

// Forward of any layer kind. Embedding and block write out (B, T, C); the head writes its
// per-position losses into acts and, when count_loss, adds their mean to the loss sum.
template <class Ops>
void layer_forward(Ops& ops, LayerKind kind, const GptDims& d, const float* params, const LayerArgs& in, float* out,
                   std::byte* acts, bool count_loss) {
    const i64 N = i64{d.B} * d.T;
    switch (kind) {
    case LayerKind::Embedding: {
        const auto w = carved<EmbedParams>(d, params);
        const auto a = carved<EmbedActs>(d, acts);
        ops.copy_i32(a.tokens, in.tokens, N);
        ops.encoder_forward(out, a.tokens, w.wte, w.wpe, d.B, d.T, d.C);
        return;
    }
    case LayerKind::Block: block_forward(ops, d, params, in.x, out, acts); return;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d, params);
        const auto a = carved<HeadActs>(d, acts);
        ops.copy(a.inp, in.x, N * d.C);
        ops.copy_i32(a.targets, in.targets, N);
        ops.layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, a.inp, w.lnfw, w.lnfb, N, d.C);
        matmul_forward(ops, a.probs, a.lnf, w.wlm, nullptr, N, d.C, d.V);  // logits
        ops.crossentropy_forward(a.probs, a.losses, a.probs, a.targets, N, d.V);
        if (count_loss) ops.add_mean_loss(a.losses, N);
        return;
    }
    }
}

// I of any layer kind: dinp (B, T, C) from dout (the head starts from its loss, dout
// unused; the embedding has no input gradient, dinp unused), pending filled for W.
template <class Ops>
void layer_backward_input(Ops& ops, LayerKind kind, const GptDims& d, const float* params, const float* dout,
                          const std::byte* acts, std::byte* pending, std::byte* scratch, float* dinp) {
    const i64 N = i64{d.B} * d.T, NC = N * d.C;
    switch (kind) {
    case LayerKind::Embedding: {  // token ids have no gradient: only park dout for W
        const auto p = carved<EmbedPending>(d, pending);
        ops.copy(p.dout, dout, NC);
        return;
    }
    case LayerKind::Block: block_backward_input(ops, d, params, dout, acts, pending, scratch, dinp); return;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d, params);
        const auto a = carved<HeadActs>(d, acts);
        const auto p = carved<HeadPending>(d, pending);
        ops.zero(p.dlogits, N * d.V);
        ops.zero(p.dlnf, NC);
        ops.zero(dinp, NC);
        const float dloss = 1.0f / static_cast<float>(N);  // mean over B*T
        ops.crossentropy_backward(p.dlogits, a.probs, a.targets, dloss, N, d.V);
        matmul_backward_input(ops, p.dlnf, p.dlogits, w.wlm, N, d.C, d.V);
        ops.layernorm_backward_input(dinp, p.dlnf, a.inp, w.lnfw, a.lnf_mean, a.lnf_rstd, N, d.C);
        return;
    }
    }
}

// W of any layer kind: grads += parameter gradients, from acts and pending only.
template <class Ops>
void layer_backward_weight(Ops& ops, LayerKind kind, const GptDims& d, float* grads, const std::byte* acts,
                           const std::byte* pending) {
    const i64 N = i64{d.B} * d.T;
    switch (kind) {
    case LayerKind::Embedding: {
        const auto g = carved<EmbedParams>(d, grads);
        const auto a = carved<EmbedActs>(d, acts);
        const auto p = carved<EmbedPending>(d, pending);
        ops.encoder_backward(g.wte, g.wpe, p.dout, a.tokens, d.B, d.T, d.C);
        return;
    }
    case LayerKind::Block: block_backward_weight(ops, d, grads, acts, pending); return;
    case LayerKind::Head: {
        const auto g = carved<HeadParams>(d, grads);
        const auto a = carved<HeadActs>(d, acts);
        const auto p = carved<HeadPending>(d, pending);
        matmul_backward_weight(ops, g.wlm, nullptr, p.dlogits, a.lnf, N, d.C, d.V);
        ops.layernorm_backward_weight(g.lnfw, g.lnfb, p.dlnf, a.inp, a.lnf_mean, a.lnf_rstd, N, d.C);
        return;
    }
    }
}

}  // namespace pipelab::gpu
