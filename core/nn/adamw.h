#pragma once
// AdamW over one flat parameter array (llm.c gpt2_update): decoupled weight decay applied to
// every element, bias correction by the step number t (1-based).
// Letters: N number of parameters.
#include <cstdint>

namespace pipelab::nn {

struct AdamWConfig {
    float lr = 3e-4f;
    float beta1 = 0.9f;
    float beta2 = 0.95f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;
};

// params -= lr * (mhat / (sqrt(vhat) + eps) + weight_decay * params), with
// m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, mhat = m / (1 - beta1^t),
// vhat = v / (1 - beta2^t). m and v start at zero and are updated in place.
void adamw_step(float* params,       // (N) updated
                const float* grads,  // (N)
                float* m,            // (N) first moment, updated
                float* v,            // (N) second moment, updated
                std::int64_t N, const AdamWConfig& cfg,
                int t);              // step number, >= 1

}  // namespace pipelab::nn
