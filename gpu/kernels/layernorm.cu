// LayerNorm on the GPU: one warp per row for the forward and the input half (I) of the
// backward, the deterministic column reduction for the weight half (W). The maths is
// layernorm_math.h. Letters: N rows, C channels.
#include "gpu/kernels/column_reduce.cuh"
#include "gpu/kernels/launch.h"
#include "gpu/kernels/layernorm_math.h"

namespace pipelab::gpu {

namespace {

__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* x, const float* w,
                                         const float* b, i64 N, int C) {
    const i64 r = warp_row();
    if (r >= N) return;
    layernorm_forward_row(WarpLanes{}, out + r * C, mean + r, rstd + r, x + r * C, w, b, C);
}

__global__ void layernorm_backward_input_kernel(float* dx, const float* dout, const float* x, const float* w,
                                                const float* mean, const float* rstd, i64 N, int C) {
    const i64 r = warp_row();
    if (r >= N) return;
    layernorm_backward_input_row(WarpLanes{}, dx + r * C, dout + r * C, x + r * C, w, mean[r], rstd[r], C);
}

}  // namespace

void launch_layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b,
                              i64 N, int C, cudaStream_t s) {
    if (N <= 0) return;
    layernorm_forward_kernel<<<grid_for_warp_rows(N), kRowThreads, 0, s>>>(out, mean, rstd, x, w, b, N, C);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

void launch_layernorm_backward_input(float* dx, const float* dout, const float* x, const float* w, const float* mean,
                                     const float* rstd, i64 N, int C, cudaStream_t s) {
    if (N <= 0) return;
    layernorm_backward_input_kernel<<<grid_for_warp_rows(N), kRowThreads, 0, s>>>(dx, dout, x, w, mean, rstd, N, C);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

void launch_layernorm_backward_weight(float* dw, float* db, const float* dout, const float* x, const float* mean,
                                      const float* rstd, i64 N, int C, float* partials, i64 partial_floats,
                                      cudaStream_t s) {
    launch_column_sums(LayerNormWeightTerm{dout, x, mean, rstd, C}, N, C, dw, db, partials, partial_floats, s);
}

}  // namespace pipelab::gpu
