#pragma once
// HostOps: gpu/gpt_layer_math.h's Ops on host memory, built from the very PIPELAB_HD
// functions the CUDA kernels run (gpu/kernels/*_math.h) with one serial lane, and a naive
// GEMM that takes cuBLAS's column-major arguments as gpu/gemm_plan.h translates them. So
// a host test exercises the kernels' maths, every GEMM's argument mapping and the layer
// orchestration of the CUDA stage, without a GPU. With bf16 on, GEMM operands are rounded
// to bf16 (fp32 accumulation) as the CUDA bf16 path feeds cuBLAS.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gpu/gemm_plan.h"
#include "gpu/kernels/crossentropy_math.h"
#include "gpu/kernels/elementwise_math.h"
#include "gpu/kernels/encoder_math.h"
#include "gpu/kernels/layernorm_math.h"
#include "gpu/kernels/reduce_math.h"
#include "gpu/kernels/softmax_math.h"

namespace pipelab::gpu {

struct HostOps {
    bool bf16 = false;
    double loss_sum = 0;

    using i64 = std::int64_t;
    void zero(float* p, i64 n) { std::fill(p, p + n, 0.0f); }
    void copy(float* d, const float* s, i64 n) { std::memmove(d, s, static_cast<std::size_t>(n) * 4); }
    void copy_i32(int* d, const int* s, i64 n) { std::memmove(d, s, static_cast<std::size_t>(n) * 4); }

    void gemm(const GemmRM& rm) {
        check_gemm(rm, "host");
        const GemmCM g = to_column_major(rm);
        const auto rd = [this](float x) { return bf16 ? round_to_bf16(x) : x; };
        for (int b = 0; b < g.batch; ++b) {
            const float* A = g.A + b * g.sA;
            const float* B = g.B + b * g.sB;
            float* C = g.C + b * g.sC;
            for (int j = 0; j < g.N; ++j) {
                for (int i = 0; i < g.M; ++i) {
                    float acc = 0.0f;
                    for (int p = 0; p < g.K; ++p) {
                        const float a = g.ta ? A[p + i64{i} * g.lda] : A[i + i64{p} * g.lda];
                        const float bb = g.tb ? B[j + i64{p} * g.ldb] : B[p + i64{j} * g.ldb];
                        acc += rd(a) * rd(bb);
                    }
                    float& c = C[i + i64{j} * g.ldc];
                    c = g.beta == 0.0f ? g.alpha * acc : g.alpha * acc + g.beta * c;
                }
            }
        }
    }

    void bias_broadcast(float* out, const float* bias, i64 N, int OC) {
        for (i64 i = 0; i < N * OC; ++i) bias_broadcast_at(out, bias, OC, i);
    }
    void bias_backward(float* dbias, const float* dout, i64 N, int OC) {
        for (int c = 0; c < OC; ++c) {
            float acc[1] = {0.0f};
            column_sums(BiasTerm{dout, OC}, 0, N, c, acc);
            dbias[c] += acc[0];
        }
    }
    void encoder_forward(float* out, const int* tok, const float* wte, const float* wpe, int B, int T, int C) {
        for (i64 i = 0; i < i64{B} * T * C; ++i) encoder_forward_at(out, tok, wte, wpe, T, C, i);
    }
    void encoder_backward(float* dwte, float* dwpe, const float* dout, const int* tok, int B, int T, int C) {
        for (i64 i = 0; i < i64{B} * T * C; ++i) encoder_backward_wte_at(dwte, dout, tok, C, i);
        for (i64 i = 0; i < i64{T} * C; ++i) encoder_backward_wpe_at(dwpe, dout, B, T, C, i);
    }
    void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, i64 N,
                           int C) {
        for (i64 r = 0; r < N; ++r)
            layernorm_forward_row(SerialLanes{}, out + r * C, mean + r, rstd + r, x + r * C, w, b, C);
    }
    void layernorm_backward_input(float* dx, const float* dout, const float* x, const float* w, const float* mean,
                                  const float* rstd, i64 N, int C) {
        for (i64 r = 0; r < N; ++r)
            layernorm_backward_input_row(SerialLanes{}, dx + r * C, dout + r * C, x + r * C, w, mean[r], rstd[r], C);
    }
    void layernorm_backward_weight(float* dw, float* db, const float* dout, const float* x, const float* mean,
                                   const float* rstd, i64 N, int C) {
        for (int c = 0; c < C; ++c) {
            float acc[2] = {0.0f, 0.0f};
            column_sums(LayerNormWeightTerm{dout, x, mean, rstd, C}, 0, N, c, acc);
            dw[c] += acc[0];
            db[c] += acc[1];
        }
    }
    void causal_softmax_forward(float* att, i64 rows, int T) {
        for (i64 r = 0; r < rows; ++r)
            causal_softmax_forward_row(SerialLanes{}, att + r * T, static_cast<int>(r % T), T);
    }
    void causal_softmax_backward(float* datt, const float* att, i64 rows, int T) {
        for (i64 r = 0; r < rows; ++r)
            causal_softmax_backward_row(SerialLanes{}, datt + r * T, att + r * T, static_cast<int>(r % T), T);
    }
    void gelu_forward(float* out, const float* x, i64 N) {
        for (i64 i = 0; i < N; ++i) gelu_forward_at(out, x, i);
    }
    void gelu_backward(float* dx, const float* x, const float* dout, i64 N) {
        for (i64 i = 0; i < N; ++i) gelu_backward_at(dx, x, dout, i);
    }
    void residual_forward(float* out, const float* a, const float* b, i64 N) {
        for (i64 i = 0; i < N; ++i) residual_forward_at(out, a, b, i);
    }
    void residual_backward(float* da, float* db, const float* dout, i64 N) {
        for (i64 i = 0; i < N; ++i) residual_backward_at(da, db, dout, i);
    }
    void crossentropy_forward(float* probs, float* losses, const float* logits, const int* targets, i64 N, int V) {
        for (i64 r = 0; r < N; ++r)
            crossentropy_forward_row(SerialLanes{}, probs + r * V, losses + r, logits + r * V, targets[r], V);
    }
    void crossentropy_backward(float* dlogits, const float* probs, const int* targets, float dloss, i64 N, int V) {
        for (i64 i = 0; i < N * V; ++i) crossentropy_backward_at(dlogits, probs, targets, dloss, V, i);
    }
    void add_mean_loss(const float* losses, i64 N) { loss_sum += mean_loss(SerialLanes{}, losses, N); }
};

}  // namespace pipelab::gpu
