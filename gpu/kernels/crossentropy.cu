// Softmax + cross-entropy of the LM head on the GPU: one block per row of V logits for the
// forward (V is large), a grid-stride loop for the backward. The maths is
// crossentropy_math.h. Letters: N rows, V vocab.
#include "gpu/kernels/crossentropy_math.h"
#include "gpu/kernels/launch.h"
#include "gpu/kernels/lanes.cuh"

namespace pipelab::gpu {

namespace {

constexpr int kRowBlock = 512;

__global__ void crossentropy_forward_kernel(float* probs, float* losses, const float* logits, const int* targets,
                                            int V) {
    __shared__ float shm[kWarp];
    __shared__ double shmd[kWarp];
    const i64 r = blockIdx.x;
    crossentropy_forward_row(BlockLanes{shm, shmd}, probs + r * V, losses + r, logits + r * V, targets[r], V);
}

struct CrossentropyBackward {
    float* dlogits;
    const float* probs;
    const int* targets;
    float dloss;
    int V;
    __device__ void operator()(i64 i) const { crossentropy_backward_at(dlogits, probs, targets, dloss, V, i); }
};

}  // namespace

void launch_crossentropy_forward(float* probs, float* losses, const float* logits, const int* targets, i64 N, int V,
                                 cudaStream_t s) {
    if (N <= 0) return;
    if (N > 0x7fffffff) throw std::invalid_argument("crossentropy: too many rows (" + std::to_string(N) + ")");
    crossentropy_forward_kernel<<<static_cast<unsigned>(N), kRowBlock, 0, s>>>(probs, losses, logits, targets, V);
    PIPELAB_CUDA_CHECK_LAUNCH();
}

void launch_crossentropy_backward(float* dlogits, const float* probs, const int* targets, float dloss, i64 N, int V,
                                  cudaStream_t s) {
    launch_for_each(N * V, CrossentropyBackward{dlogits, probs, targets, dloss, V}, s);
}

}  // namespace pipelab::gpu
