#pragma once
// AdamW, one parameter at a time. Reference: core/nn adamw_step, after CpuStage's scaling
// of the summed gradients by 1/m (fused here: the scaled gradient is stored back, as the
// CPU leaves it).
// Letters: N number of parameters.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

struct AdamWStep {
    float lr, beta1, beta2, eps, weight_decay;
    float bc1, bc2;    // 1 - beta^t, computed once on the host in fp32 as the CPU does
    float grad_scale;  // 1 / microbatches
};

// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr (mhat / (sqrt(vhat) + eps) + wd p)
PIPELAB_HD void adamw_at(float* params, float* grads, float* m, float* v, const AdamWStep& a, long long i) {
    const float g = grads[i] * a.grad_scale;
    grads[i] = g;
    const float mi = a.beta1 * m[i] + (1.0f - a.beta1) * g;
    const float vi = a.beta2 * v[i] + (1.0f - a.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float mhat = mi / a.bc1;
    const float vhat = vi / a.bc2;
    params[i] -= a.lr * (mhat / (sqrtf(vhat) + a.eps) + a.weight_decay * params[i]);
}

}  // namespace pipelab::gpu
