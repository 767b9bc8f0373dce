#pragma once
// Device-side lanes for the per-row functions of *_math.h (see hd.h), and the launch
// helpers every kernel file uses. nvcc only.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gpu/cuda_check.h"

namespace pipelab::gpu {

constexpr int kWarp = 32;

__device__ __forceinline__ float warp_sum(float x) {
    for (int o = kWarp / 2; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}
__device__ __forceinline__ double warp_sum(double x) {
    for (int o = kWarp / 2; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}
__device__ __forceinline__ float warp_max(float x) {
    for (int o = kWarp / 2; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

// One warp runs a row: the butterfly leaves the total in every lane. The whole warp must
// take part (rows are assigned per warp, so a warp exits together).
struct WarpLanes {
    __device__ int rank() const { return static_cast<int>(threadIdx.x % kWarp); }
    __device__ int size() const { return kWarp; }
    __device__ float sum(float x) const { return warp_sum(x); }
    __device__ double sum(double x) const { return warp_sum(x); }
    __device__ float max(float x) const { return warp_max(x); }
    __device__ void sync() const { __syncwarp(); }
};

// One block runs a row (blockDim.x a multiple of 32, at most 1024). Each warp reduces, the
// warps' partials meet in shared memory, and every thread adds them in warp order, so all
// get the same value. The trailing barrier frees the shared slots for the next reduction.
struct BlockLanes {
    float* shm;    // kWarp floats
    double* shmd;  // kWarp doubles
    __device__ int rank() const { return static_cast<int>(threadIdx.x); }
    __device__ int size() const { return static_cast<int>(blockDim.x); }
    template <class V, class Op>
    __device__ V combine(V x, V* slots, Op op) const {
        const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp, nw = blockDim.x / kWarp;
        if (lane == 0) slots[warp] = x;
        __syncthreads();
        V t = slots[0];
        for (int i = 1; i < nw; ++i) t = op(t, slots[i]);
        __syncthreads();
        return t;
    }
    __device__ float sum(float x) const {
        return combine(warp_sum(x), shm, [](float a, float b) { return a + b; });
    }
    __device__ double sum(double x) const {
        return combine(warp_sum(x), shmd, [](double a, double b) { return a + b; });
    }
    __device__ float max(float x) const {
        return combine(warp_max(x), shm, [](float a, float b) { return fmaxf(a, b); });
    }
    __device__ void sync() const { __syncthreads(); }
};

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Blocks for a grid-stride loop over n items: enough to fill the GPU, capped so the grid
// size stays legal whatever n is.
inline unsigned grid_for(std::int64_t n, int threads) {
    return static_cast<unsigned>(std::clamp<std::int64_t>(ceil_div(n, threads), 1, std::int64_t{1} << 20));
}

// Blocks of 8 warps, one row per warp.
constexpr int kRowThreads = 256;
inline unsigned grid_for_warp_rows(std::int64_t rows) {
    const std::int64_t blocks = ceil_div(rows, kRowThreads / kWarp);
    if (blocks > 0x7fffffff) throw std::invalid_argument("too many rows for one launch: " + std::to_string(rows));
    return static_cast<unsigned>(blocks);
}
__device__ __forceinline__ std::int64_t warp_row() {
    return (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
}

// for_each<<<>>>(n, f): f(i) for every i < n, grid-stride.
template <class F>
__global__ void for_each_kernel(std::int64_t n, F f) {
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        f(i);
}
template <class F>
void launch_for_each(std::int64_t n, F f, cudaStream_t s) {
    if (n <= 0) return;
    constexpr int threads = 256;
    for_each_kernel<<<grid_for(n, threads), threads, 0, s>>>(n, f);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

}  // namespace pipelab::gpu
