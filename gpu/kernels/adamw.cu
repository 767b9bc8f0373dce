// AdamW on the GPU, one thread per parameter around adamw_math.h; in bf16 mode the same
// pass refreshes the bf16 copy of the parameters that the next step's GEMMs read.
// Letters: N number of parameters.
#include <cuda_bf16.h>

#include "gpu/kernels/launch.h"
#include "gpu/kernels/lanes.cuh"

namespace pipelab::gpu {

namespace {
struct AdamW {
    float *params, *grads, *m, *v;
    AdamWStep a;
    __nv_bfloat16* shadow;
    __device__ void operator()(i64 i) const {
        adamw_at(params, grads, m, v, a, i);
        if (shadow != nullptr) shadow[i] = __float2bfloat16_rn(params[i]);
    }
};
}  // namespace

void launch_adamw(float* params, float* grads, float* m, float* v, const AdamWStep& a, i64 n, void* bf16_shadow,
                  cudaStream_t s) {
    launch_for_each(n, AdamW{params, grads, m, v, a, static_cast<__nv_bfloat16*>(bf16_shadow)}, s);
}

}  // namespace pipelab::gpu
