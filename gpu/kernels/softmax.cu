// The causal softmax of attention on the GPU, one warp per (T)-row of scores; the maths is
// softmax_math.h, the GEMMs around it are cuBLAS (gpu/gpt_layer_math.h). Letters: T
// sequence length; rows = B*NH*T, row r holds query position t = r % T.
#include "gpu/kernels/launch.h"
#include "gpu/kernels/lanes.cuh"
#include "gpu/kernels/softmax_math.h"

namespace pipelab::gpu {

namespace {

__global__ void causal_softmax_forward_kernel(float* att, i64 rows, int T) {
    const i64 r = warp_row();
    if (r >= rows) return;
    causal_softmax_forward_row(WarpLanes{}, att + r * T, static_cast<int>(r % T), T);
}

__global__ void causal_softmax_backward_kernel(float* datt, const float* att, i64 rows, int T) {
    const i64 r = warp_row();
    if (r >= rows) return;
    causal_softmax_backward_row(WarpLanes{}, datt + r * T, att + r * T, static_cast<int>(r % T), T);
}

}  // namespace

void launch_causal_softmax_forward(float* att, i64 rows, int T, cudaStream_t s) {
    if (rows <= 0) return;
    causal_softmax_forward_kernel<<<grid_for_warp_rows(rows), kRowThreads, 0, s>>>(att, rows, T);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

void launch_causal_softmax_backward(float* datt, const float* att, i64 rows, int T, cudaStream_t s) {
    if (rows <= 0) return;
    causal_softmax_backward_kernel<<<grid_for_warp_rows(rows), kRowThreads, 0, s>>>(datt, att, rows, T);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

}  // namespace pipelab::gpu
