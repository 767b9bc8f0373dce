// fp32 CPU ops, llm.c train_gpt2.c style; attention lives in ops_attention.cpp.
// Letters: B microbatch size, T sequence length, C channels, OC output channels of a
// linear, V vocab, N any count. Every backward accumulates (+=).
#include "core/nn/ops.h"

#include <cassert>
#include <cblas.h>
#include <cmath>
#include <cstddef>
#include <numbers>

namespace pipelab::nn {

namespace {
using idx = std::ptrdiff_t;
constexpr float kLayerNormEps = 1e-5f;
}  // namespace

void nn_set_single_threaded_blas() { openblas_set_num_threads(1); }

// ---- encoder --------------------------------------------------------------------------

void encoder_forward(float* out, const int* inp, const float* wte, const float* wpe, int B, int T, int C) {
    for (idx b = 0; b < B; ++b) {
        for (idx t = 0; t < T; ++t) {
            float* out_bt = out + (b * T + t) * C;  // (C)
            const int ix = inp[b * T + t];
            assert(ix >= 0);
            const float* wte_ix = wte + idx{ix} * C;  // (C)
            const float* wpe_t = wpe + t * C;         // (C)
            for (idx i = 0; i < C; ++i) out_bt[i] = wte_ix[i] + wpe_t[i];
        }
    }
}

void encoder_backward(float* dwte, float* dwpe, const float* dout, const int* inp, int B, int T, int C) {
    for (idx b = 0; b < B; ++b) {
        for (idx t = 0; t < T; ++t) {
            const float* dout_bt = dout + (b * T + t) * C;  // (C)
            const int ix = inp[b * T + t];
            float* dwte_ix = dwte + idx{ix} * C;  // (C)
            float* dwpe_t = dwpe + t * C;         // (C)
            for (idx i = 0; i < C; ++i) {
                dwte_ix[i] += dout_bt[i];
                dwpe_t[i] += dout_bt[i];
            }
        }
    }
}

// ---- layernorm -------------------------------------------------------------------------

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias,
                       int B, int T, int C) {
    for (idx bt = 0; bt < idx{B} * T; ++bt) {
        const float* x = inp + bt * C;  // (C)
        float m = 0.0f;
        for (idx i = 0; i < C; ++i) m += x[i];
        m /= static_cast<float>(C);
        float v = 0.0f;
        for (idx i = 0; i < C; ++i) {
            const float d = x[i] - m;
            v += d * d;
        }
        v /= static_cast<float>(C);
        const float s = 1.0f / std::sqrt(v + kLayerNormEps);
        float* out_bt = out + bt * C;  // (C)
        for (idx i = 0; i < C; ++i) out_bt[i] = (s * (x[i] - m)) * weight[i] + bias[i];
        mean[bt] = m;
        rstd[bt] = s;
    }
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int B, int T, int C) {
    for (idx bt = 0; bt < idx{B} * T; ++bt) {
        const float* dout_bt = dout + bt * C;  // (C)
        const float* inp_bt = inp + bt * C;    // (C)
        float* dinp_bt = dinp + bt * C;        // (C)
        const float m = mean[bt], s = rstd[bt];
        // two reductions: mean of dnorm and mean of dnorm * norm
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (idx i = 0; i < C; ++i) {
            const float norm = (inp_bt[i] - m) * s;
            const float dnorm = weight[i] * dout_bt[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= static_cast<float>(C);
        dnorm_norm_mean /= static_cast<float>(C);
        for (idx i = 0; i < C; ++i) {
            const float norm = (inp_bt[i] - m) * s;
            const float dnorm = weight[i] * dout_bt[i];
            dbias[i] += dout_bt[i];
            dweight[i] += norm * dout_bt[i];
            dinp_bt[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

void layernorm_backward_input(float* dinp, const float* dout, const float* inp, const float* weight, const float* mean,
                              const float* rstd, int B, int T, int C) {
    for (idx bt = 0; bt < idx{B} * T; ++bt) {
        const float* dout_bt = dout + bt * C;  // (C)
        const float* inp_bt = inp + bt * C;    // (C)
        float* dinp_bt = dinp + bt * C;        // (C)
        const float m = mean[bt], s = rstd[bt];
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (idx i = 0; i < C; ++i) {
            const float norm = (inp_bt[i] - m) * s;
            const float dnorm = weight[i] * dout_bt[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= static_cast<float>(C);
        dnorm_norm_mean /= static_cast<float>(C);
        for (idx i = 0; i < C; ++i) {
            const float norm = (inp_bt[i] - m) * s;
            const float dnorm = weight[i] * dout_bt[i];
            dinp_bt[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

void layernorm_backward_weight(float* dweight, float* dbias, const float* dout, const float* inp, const float* mean,
                               const float* rstd, int B, int T, int C) {
    for (idx bt = 0; bt < idx{B} * T; ++bt) {
        const float* dout_bt = dout + bt * C;  // (C)
        const float* inp_bt = inp + bt * C;    // (C)
        const float m = mean[bt], s = rstd[bt];
        for (idx i = 0; i < C; ++i) {
            const float norm = (inp_bt[i] - m) * s;
            dbias[i] += dout_bt[i];
            dweight[i] += norm * dout_bt[i];
        }
    }
}

// ---- linear ----------------------------------------------------------------------------

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int B, int T, int C, int OC) {
    const int BT = B * T;
    float beta = 0.0f;
    if (bias != nullptr) {  // out starts as the bias broadcast over rows, then += inp @ W^T
        for (idx bt = 0; bt < BT; ++bt) {
            float* out_bt = out + bt * OC;  // (OC)
            for (idx o = 0; o < OC; ++o) out_bt[o] = bias[o];
        }
        beta = 1.0f;
    }
    // out (BT, OC) = inp (BT, C) @ weight^T (C, OC)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
}

void matmul_backward_input(float* dinp, const float* dout, const float* weight, int B, int T, int C, int OC) {
    // dinp (BT, C) += dout (BT, OC) @ weight (OC, C)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B * T, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
}

void matmul_backward_weight(float* dweight, float* dbias, const float* dout, const float* inp, int B, int T, int C,
                            int OC) {
    const int BT = B * T;
    // dweight (OC, C) += dout^T (OC, BT) @ inp (BT, C)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, BT, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    if (dbias != nullptr) {
        for (idx bt = 0; bt < BT; ++bt) {
            const float* dout_bt = dout + bt * OC;  // (OC)
            for (idx o = 0; o < OC; ++o) dbias[o] += dout_bt[o];
        }
    }
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int B, int T, int C, int OC) {
    matmul_backward_input(dinp, dout, weight, B, T, C, OC);
    matmul_backward_weight(dweight, dbias, dout, inp, B, T, C, OC);
}

// ---- GELU (tanh approximation) -----------------------------------------------------------

namespace {
const float kGeluScale = std::sqrt(2.0f / std::numbers::pi_v<float>);
}

// tanh(u) written through t = 1 / (1 + exp(2u)): tanh = 1 - 2t, sech^2 = 4t(1 - t).
// libm's tanhf is not vectorised and cost ~16 ns per element here (GELU took half as
// long as the block's matmuls at d_model 512); expf is ~4x faster, and t stays in [0, 1]
// when exp overflows, so neither form can produce inf/inf.
namespace {
inline float gelu_t(float x) {
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    return 1.0f / (1.0f + std::exp(2.0f * u));
}
}  // namespace

void gelu_forward(float* out, const float* inp, long long N) {
    for (long long i = 0; i < N; ++i) {
        const float x = inp[i];
        out[i] = x * (1.0f - gelu_t(x));  // 0.5 x (1 + tanh u)
    }
}

void gelu_backward(float* dinp, const float* inp, const float* dout, long long N) {
    for (long long i = 0; i < N; ++i) {
        const float x = inp[i];
        const float t = gelu_t(x);
        const float sech2 = 4.0f * t * (1.0f - t);
        const float local_grad = (1.0f - t) +  // 0.5 (1 + tanh u)
                                 x * 0.5f * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += local_grad * dout[i];
    }
}

// ---- residual ----------------------------------------------------------------------------

void residual_forward(float* out, const float* inp1, const float* inp2, long long N) {
    for (long long i = 0; i < N; ++i) out[i] = inp1[i] + inp2[i];
}

void residual_backward(float* dinp1, float* dinp2, const float* dout, long long N) {
    for (long long i = 0; i < N; ++i) {
        dinp1[i] += dout[i];
        dinp2[i] += dout[i];
    }
}

// ---- softmax + cross-entropy --------------------------------------------------------------

void crossentropy_softmax_forward(float* probs, float* losses, const float* logits, const int* targets, int B, int T,
                                  int V) {
    for (idx bt = 0; bt < idx{B} * T; ++bt) {
        const float* logits_bt = logits + bt * V;  // (V)
        float* probs_bt = probs + bt * V;          // (V), may be logits_bt
        float maxv = logits_bt[0];
        for (idx i = 1; i < V; ++i) maxv = std::fmax(maxv, logits_bt[i]);
        float sum = 0.0f;
        for (idx i = 0; i < V; ++i) {
            probs_bt[i] = std::exp(logits_bt[i] - maxv);
            sum += probs_bt[i];
        }
        const float inv = 1.0f / sum;
        for (idx i = 0; i < V; ++i) probs_bt[i] *= inv;
        const int ix = targets[bt];
        assert(ix >= 0 && ix < V);
        losses[bt] = -std::log(probs_bt[ix]);
    }
}

void crossentropy_softmax_backward(float* dlogits, const float* probs, const int* targets, float dloss, int B, int T,
                                   int V) {
    for (idx bt = 0; bt < idx{B} * T; ++bt) {
        float* dlogits_bt = dlogits + bt * V;    // (V)
        const float* probs_bt = probs + bt * V;  // (V)
        const int ix = targets[bt];
        for (idx i = 0; i < V; ++i) {
            const float indicator = (i == ix) ? 1.0f : 0.0f;
            dlogits_bt[i] += (probs_bt[i] - indicator) * dloss;
        }
    }
}

}  // namespace pipelab::nn
