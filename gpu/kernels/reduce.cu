// Reductions on the GPU: the bias gradient of a linear (column sums), the mean of the
// per-position losses into the stage's loss sum, and the NaN/Inf finder. The maths is
// reduce_math.h. Letters: N rows, OC output channels.
#include "gpu/kernels/column_reduce.cuh"
#include "gpu/kernels/launch.h"

namespace pipelab::gpu {

namespace {

__global__ void add_mean_loss_kernel(double* acc, const float* losses, i64 N) {
    __shared__ float shm[kWarp];
    __shared__ double shmd[kWarp];
    const float mean = mean_loss(BlockLanes{shm, shmd}, losses, N);
    if (threadIdx.x == 0) *acc += static_cast<double>(mean);
}

struct FindNonFinite {
    int* flag;
    const float* p;
    __device__ void operator()(i64 i) const {
        if (!finite_value(p[i])) *flag = 1;  // every writer stores the same value
    }
};

}  // namespace

i64 column_partial_floats(i64 N, int cols, int k) { return i64{column_splits(N)} * k * cols; }

void launch_bias_backward(float* dbias, const float* dout, i64 N, int OC, float* partials, i64 partial_floats,
                          cudaStream_t s) {
    launch_column_sums(BiasTerm{dout, OC}, N, OC, dbias, nullptr, partials, partial_floats, s);
}

void launch_add_mean_loss(double* acc, const float* losses, i64 N, cudaStream_t s) {
    if (N <= 0) return;
    add_mean_loss_kernel<<<1, 1024, 0, s>>>(acc, losses, N);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

void launch_find_nonfinite(int* flag, const float* p, i64 n, cudaStream_t s) {
    launch_for_each(n, FindNonFinite{flag, p}, s);
}

}  // namespace pipelab::gpu
