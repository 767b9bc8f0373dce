#pragma once
// Column sums of a (N, cols) term over its N rows, deterministic: the rows are cut into
// `splits` contiguous slices; block (x, y) takes 32 columns of slice y, its 8 thread rows
// each sum a contiguous sub-slice with column_sums() (reduce_math.h), neighbouring threads
// on neighbouring columns so every load is coalesced; the 8 sub-sums are added in order
// into partials[y][k][c]. A second pass adds the slices in order into the gradient (+=).
// The result does not depend on scheduling, so two runs agree bit for bit.
#include "gpu/kernels/lanes.cuh"
#include "gpu/kernels/reduce_math.h"

namespace pipelab::gpu {

constexpr int kColTile = 32, kColRows = 8, kMaxSplits = kMaxColumnSplits;

inline int column_splits(std::int64_t N) {
    return static_cast<int>(std::clamp<std::int64_t>(ceil_div(N, 64), 1, kMaxSplits));
}

template <class Term>
__global__ void column_partials_kernel(Term term, std::int64_t N, int cols, int splits, float* partials) {
    __shared__ float sh[Term::K][kColRows][kColTile];
    const int c = blockIdx.x * kColTile + threadIdx.x;
    const std::int64_t per_split = (N + splits - 1) / splits;
    const std::int64_t s0 = blockIdx.y * per_split, s1 = s0 + per_split < N ? s0 + per_split : N;
    const std::int64_t per_row = s1 > s0 ? (s1 - s0 + kColRows - 1) / kColRows : 0;
    const std::int64_t r0 = s0 + threadIdx.y * per_row, r1 = r0 + per_row < s1 ? r0 + per_row : s1;
    float acc[Term::K] = {};
    if (c < cols && r0 < r1) column_sums(term, r0, r1, c, acc);
    for (int k = 0; k < Term::K; ++k) sh[k][threadIdx.y][threadIdx.x] = acc[k];
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        for (int k = 0; k < Term::K; ++k) {
            float t = 0.0f;
            for (int y = 0; y < kColRows; ++y) t += sh[k][y][threadIdx.x];
            partials[(static_cast<std::int64_t>(blockIdx.y) * Term::K + k) * cols + c] = t;
        }
    }
}

// out_k[c] += sum over slices of partials[y][k][c]
template <int K>
__global__ void column_finish_kernel(const float* partials, int cols, int splits, float* out0, float* out1) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    float* out[2] = {out0, out1};
    for (int k = 0; k < K; ++k) {
        float t = 0.0f;
        for (int y = 0; y < splits; ++y) t += partials[(static_cast<std::int64_t>(y) * K + k) * cols + c];
        out[k][c] += t;
    }
}

template <class Term>
void launch_column_sums(const Term& term, std::int64_t N, int cols, float* out0, float* out1, float* partials,
                        std::int64_t partial_floats, cudaStream_t s) {
    if (N <= 0 || cols <= 0) return;
    const int splits = column_splits(N);
    if (static_cast<std::int64_t>(splits) * Term::K * cols > partial_floats)
        throw std::invalid_argument("column reduction of " + std::to_string(cols) + " columns needs " +
                                    std::to_string(static_cast<std::int64_t>(splits) * Term::K * cols) +
                                    " partial floats, the work space holds " + std::to_string(partial_floats));
    const dim3 grid(static_cast<unsigned>(ceil_div(cols, kColTile)), static_cast<unsigned>(splits));
    column_partials_kernel<<<grid, dim3(kColTile, kColRows), 0, s>>>(term, N, cols, splits, partials);
    PIPELAB_CUDA_CHECK_LAUNCH();
    column_finish_kernel<Term::K>
        <<<static_cast<unsigned>(ceil_div(cols, 256)), 256, 0, s>>>(partials, cols, splits, out0, out1);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

}  // namespace pipelab::gpu
