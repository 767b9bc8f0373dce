#pragma once
// Element-wise maths: GELU, the residual add, the bias broadcast of a linear, the bf16
// cast of GEMM operands. Reference: core/nn gelu_* / residual_* / matmul_forward's bias.
// Letters: N any count, OC output channels of a linear.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

// sqrt(2/pi) rounded to fp32, the value core/nn computes with std::sqrt in float.
constexpr float kGeluScale = 0x1.988452p-1f;

// GELU, tanh form, with tanh(u) written through t = 1 / (1 + exp(2u)) exactly as core/nn
// does: tanh u = 1 - 2t and sech^2 u = 4t(1 - t); t stays in [0, 1] when exp overflows.
PIPELAB_HD float gelu_t(float x) {
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    return 1.0f / (1.0f + expf(2.0f * u));
}

// out = 0.5 x (1 + tanh u) = x (1 - t)
PIPELAB_HD void gelu_forward_at(float* out, const float* inp, long long i) {
    const float x = inp[i];
    out[i] = x * (1.0f - gelu_t(x));
}

// dinp += dout * d/dx [0.5 x (1 + tanh u)] = 0.5 (1 + tanh u) + 0.5 x sech^2 u du/dx,
// du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
PIPELAB_HD void gelu_backward_at(float* dinp, const float* inp, const float* dout, long long i) {
    const float x = inp[i];
    const float t = gelu_t(x);
    const float sech2 = 4.0f * t * (1.0f - t);
    const float local_grad = (1.0f - t) + x * 0.5f * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] += local_grad * dout[i];
}

// out = a + b (out may alias either).
PIPELAB_HD void residual_forward_at(float* out, const float* a, const float* b, long long i) { out[i] = a[i] + b[i]; }

// Both inputs of an add get the output's gradient.
PIPELAB_HD void residual_backward_at(float* da, float* db, const float* dout, long long i) {
    da[i] += dout[i];
    db[i] += dout[i];
}

// Element i of out (N, OC) starts as bias[i % OC]; the GEMM then adds inp @ W^T (beta 1).
PIPELAB_HD void bias_broadcast_at(float* out, const float* bias, int OC, long long i) { out[i] = bias[i % OC]; }

}  // namespace pipelab::gpu
