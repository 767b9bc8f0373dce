// Element-wise kernels: GELU, residual, the bias broadcast and the bf16 cast, grid-stride
// loops around elementwise_math.h. Letters: N rows, OC output channels.
#include <cuda_bf16.h>

#include "gpu/kernels/elementwise_math.h"
#include "gpu/kernels/launch.h"
#include "gpu/kernels/lanes.cuh"

namespace pipelab::gpu {

namespace {
struct GeluForward {
    float* out;
    const float* x;
    __device__ void operator()(i64 i) const { gelu_forward_at(out, x, i); }
};
struct GeluBackward {
    float* dx;
    const float *x, *dout;
    __device__ void operator()(i64 i) const { gelu_backward_at(dx, x, dout, i); }
};
struct ResidualForward {
    float* out;
    const float *a, *b;
    __device__ void operator()(i64 i) const { residual_forward_at(out, a, b, i); }
};
struct ResidualBackward {
    float *da, *db;
    const float* dout;
    __device__ void operator()(i64 i) const { residual_backward_at(da, db, dout, i); }
};
struct BiasBroadcast {
    float* out;
    const float* bias;
    int OC;
    __device__ void operator()(i64 i) const { bias_broadcast_at(out, bias, OC, i); }
};
struct CastToBf16 {
    __nv_bfloat16* dst;
    const float* src;
    __device__ void operator()(i64 i) const { dst[i] = __float2bfloat16_rn(src[i]); }
};
}  // namespace

void launch_gelu_forward(float* out, const float* x, i64 n, cudaStream_t s) {
    launch_for_each(n, GeluForward{out, x}, s);
}
void launch_gelu_backward(float* dx, const float* x, const float* dout, i64 n, cudaStream_t s) {
    launch_for_each(n, GeluBackward{dx, x, dout}, s);
}
void launch_residual_forward(float* out, const float* a, const float* b, i64 n, cudaStream_t s) {
    launch_for_each(n, ResidualForward{out, a, b}, s);
}
void launch_residual_backward(float* da, float* db, const float* dout, i64 n, cudaStream_t s) {
    launch_for_each(n, ResidualBackward{da, db, dout}, s);
}
void launch_bias_broadcast(float* out, const float* bias, i64 N, int OC, cudaStream_t s) {
    launch_for_each(N * OC, BiasBroadcast{out, bias, OC}, s);
}
void launch_cast_to_bf16(void* dst, const float* src, i64 n, cudaStream_t s) {
    launch_for_each(n, CastToBf16{static_cast<__nv_bfloat16*>(dst), src}, s);
}

}  // namespace pipelab::gpu
