#pragma once
// The kernel launchers: thin wrappers that size a grid around the PIPELAB_HD maths of
// *_math.h, enqueue on the given stream, and check the launch (file/line). Shapes are
// checked on the host before anything is enqueued. Every pointer is device memory.
// Letters: B microbatch size, T sequence length, C channels, OC output channels, N rows
// (B*T), V vocab.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/kernels/adamw_math.h"

namespace pipelab::gpu {

using i64 = std::int64_t;

// encoder.cu
void launch_encoder_forward(float* out, const int* tok, const float* wte, const float* wpe, int B, int T, int C,
                            cudaStream_t s);
void launch_encoder_backward(float* dwte, float* dwpe, const float* dout, const int* tok, int B, int T, int C,
                             cudaStream_t s);

// layernorm.cu; the W half reduces through `partials` (column_partial_floats(N, C, 2)).
void launch_layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b,
                              i64 N, int C, cudaStream_t s);
void launch_layernorm_backward_input(float* dx, const float* dout, const float* x, const float* w, const float* mean,
                                     const float* rstd, i64 N, int C, cudaStream_t s);
void launch_layernorm_backward_weight(float* dw, float* db, const float* dout, const float* x, const float* mean,
                                      const float* rstd, i64 N, int C, float* partials, i64 partial_floats,
                                      cudaStream_t s);

// reduce.cu
// Floats of the partial-sum buffer a column reduction of (N, cols) with k outputs needs.
i64 column_partial_floats(i64 N, int cols, int k);
void launch_bias_backward(float* dbias, const float* dout, i64 N, int OC, float* partials, i64 partial_floats,
                          cudaStream_t s);
// *acc += mean of losses[0..N), summed in double.
void launch_add_mean_loss(double* acc, const float* losses, i64 N, cudaStream_t s);
// *flag = 1 when any of p[0..n) is NaN or Inf (the caller zeroes flag first).
void launch_find_nonfinite(int* flag, const float* p, i64 n, cudaStream_t s);

// softmax.cu: the causal softmax rows of attention, rows = B*NH*T, row r is t = r % T.
void launch_causal_softmax_forward(float* att, i64 rows, int T, cudaStream_t s);
void launch_causal_softmax_backward(float* datt, const float* att, i64 rows, int T, cudaStream_t s);

// elementwise.cu
void launch_gelu_forward(float* out, const float* x, i64 n, cudaStream_t s);
void launch_gelu_backward(float* dx, const float* x, const float* dout, i64 n, cudaStream_t s);
void launch_residual_forward(float* out, const float* a, const float* b, i64 n, cudaStream_t s);
void launch_residual_backward(float* da, float* db, const float* dout, i64 n, cudaStream_t s);
void launch_bias_broadcast(float* out, const float* bias, i64 N, int OC, cudaStream_t s);
// dst[i] = bf16(src[i]), round to nearest even; dst holds n 2-byte values.
void launch_cast_to_bf16(void* dst, const float* src, i64 n, cudaStream_t s);

// crossentropy.cu
void launch_crossentropy_forward(float* probs, float* losses, const float* logits, const int* targets, i64 N, int V,
                                 cudaStream_t s);
void launch_crossentropy_backward(float* dlogits, const float* probs, const int* targets, float dloss, i64 N, int V,
                                  cudaStream_t s);

// adamw.cu: one step over n parameters; bf16_shadow (n 2-byte values, or nullptr) gets the
// updated parameters rounded to bf16 for the next step's GEMMs.
void launch_adamw(float* params, float* grads, float* m, float* v, const AdamWStep& a, i64 n, void* bf16_shadow,
                  cudaStream_t s);

}  // namespace pipelab::gpu
