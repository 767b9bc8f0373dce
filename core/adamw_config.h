#pragma once
// AdamW's hyper-parameters, shared by the CPU (core/nn/adamw.h) and CUDA optimizers:
// lr and weight decay come from the config, the rest are GPT-2's defaults.
namespace pipelab {

struct AdamWConfig {
    float lr = 3e-4f;
    float beta1 = 0.9f;
    float beta2 = 0.95f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;
};

}  // namespace pipelab
