#pragma once
// LayerNorm (eps 1e-5): forward, the input half of the backward (I) per row, and the
// weight half (W) per element for the column reduction (reduce_math.h).
// Reference: core/nn layernorm_forward / _backward_input / _backward_weight.
// Letters: N rows (B*T), C channels.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

constexpr float kLayerNormEps = 1e-5f;

// One row: out = (x - mean) * rstd * w + b, with mean and rstd = 1/sqrt(var + eps) saved
// for the backward. Two passes over x (mean, then the variance about it), as the CPU.
PIPELAB_HD_TEMPLATE template <class G>
PIPELAB_HD void layernorm_forward_row(const G& g, float* out, float* mean, float* rstd, const float* x, const float* w,
                                      const float* b, int C) {
    float s = 0.0f;
    for (int i = g.rank(); i < C; i += g.size()) s += x[i];
    const float m = g.sum(s) / static_cast<float>(C);
    float v = 0.0f;
    for (int i = g.rank(); i < C; i += g.size()) {
        const float d = x[i] - m;
        v += d * d;
    }
    v = g.sum(v) / static_cast<float>(C);
    const float r = 1.0f / sqrtf(v + kLayerNormEps);
    for (int i = g.rank(); i < C; i += g.size()) out[i] = (r * (x[i] - m)) * w[i] + b[i];
    if (g.rank() == 0) {
        *mean = m;
        *rstd = r;
    }
}

// I, one row: dinp += gradient through the normalisation. In the forward
// y = norm * w + b with norm = (x - mean) * rstd; so dnorm = w * dy, and since mean and
// rstd depend on every x of the row,
//   dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)).
PIPELAB_HD_TEMPLATE template <class G>
PIPELAB_HD void layernorm_backward_input_row(const G& g, float* dinp, const float* dout, const float* x, const float* w,
                                             float mean, float rstd, int C) {
    float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
    for (int i = g.rank(); i < C; i += g.size()) {
        const float norm = (x[i] - mean) * rstd;
        const float dnorm = w[i] * dout[i];
        dnorm_mean += dnorm;
        dnorm_norm_mean += dnorm * norm;
    }
    dnorm_mean = g.sum(dnorm_mean) / static_cast<float>(C);
    dnorm_norm_mean = g.sum(dnorm_norm_mean) / static_cast<float>(C);
    for (int i = g.rank(); i < C; i += g.size()) {
        const float norm = (x[i] - mean) * rstd;
        const float dnorm = w[i] * dout[i];
        dinp[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * rstd;
    }
}

// W, the terms of one (row r, channel c): y = norm * w + b, so dw[c] collects norm * dy
// and db[c] collects dy over all rows. acc[0] is dweight's, acc[1] dbias's.
struct LayerNormWeightTerm {
    static constexpr int K = 2;
    const float* dout;  // (N, C)
    const float* inp;   // (N, C)
    const float* mean;  // (N)
    const float* rstd;  // (N)
    int C;
    PIPELAB_HD void operator()(long long r, int c, float* acc) const {
        const float dy = dout[r * C + c];
        const float norm = (inp[r * C + c] - mean[r]) * rstd[r];
        acc[0] += norm * dy;
        acc[1] += dy;
    }
};

}  // namespace pipelab::gpu
