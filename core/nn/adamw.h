#pragma once
// AdamW over one flat parameter array (llm.c gpt2_update): decoupled weight decay applied to
// every element, bias correction by the step number t (1-based).
// Letters: N number of parameters.
#include <cstdint>

#include "core/adamw_config.h"

namespace pipelab::nn {

using pipelab::AdamWConfig;

// params -= lr * (mhat / (sqrt(vhat) + eps) + weight_decay * params), with
// m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2, mhat = m / (1 - beta1^t),
// vhat = v / (1 - beta2^t). m and v start at zero and are updated in place.
void adamw_step(float* params,       // (N) updated
                const float* grads,  // (N)
                float* m,            // (N) first moment, updated
                float* v,            // (N) second moment, updated
                std::int64_t N, const AdamWConfig& cfg,
                int t);  // step number, >= 1

}  // namespace pipelab::nn
