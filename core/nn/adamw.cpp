// AdamW step. Letters: N number of parameters.
#include "core/nn/adamw.h"

#include <cassert>
#include <cmath>

namespace pipelab::nn {

void adamw_step(float* params, const float* grads, float* m, float* v, std::int64_t N, const AdamWConfig& cfg, int t) {
    assert(t >= 1);
    const float bc1 = 1.0f - std::pow(cfg.beta1, static_cast<float>(t));
    const float bc2 = 1.0f - std::pow(cfg.beta2, static_cast<float>(t));
    for (std::int64_t i = 0; i < N; ++i) {
        const float g = grads[i];
        const float mi = cfg.beta1 * m[i] + (1.0f - cfg.beta1) * g;
        const float vi = cfg.beta2 * v[i] + (1.0f - cfg.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        const float mhat = mi / bc1;
        const float vhat = vi / bc2;
        params[i] -= cfg.lr * (mhat / (std::sqrt(vhat) + cfg.eps) + cfg.weight_decay * params[i]);
    }
}

}  // namespace pipelab::nn
