#pragma once
// CudaOps: the Ops of gpu/gpt_layer_math.h on one rank's GPU. Every op is enqueued on the
// rank's stream (nothing here waits for the GPU); every matmul is one cuBLAS call on the
// rank's handle, in the run's precision:
//   fp32  fp32 operands, fp32 compute (CUBLAS_COMPUTE_32F)
//   tf32  fp32 operands, TF32 tensor-core products, fp32 accumulation
//   bf16  operands rounded to bf16 (weights from the stage's bf16 copy, activations cast
//         into two work buffers just before the call), fp32 accumulation, fp32 output:
//         every stored tensor stays fp32, the master weights included.
// Letters: N rows, OC output channels, C channels, T sequence length, V vocab.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "gpu/cuda_plan.h"
#include "gpu/gemm_plan.h"

namespace pipelab::gpu {

struct CudaOps {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    Precision precision = Precision::FP32;
    float* partials = nullptr;  // column reductions' work space
    i64 partial_floats = 0;
    double* loss_sum = nullptr;  // device accumulator of the microbatch losses
    // bf16 only: the parameters [params, params + n_params) and their bf16 copy; two cast
    // buffers of cast_elems 2-byte values for the other operands.
    const float* params = nullptr;
    i64 n_params = 0;
    const void* params_bf16 = nullptr;
    void* cast_a = nullptr;
    void* cast_b = nullptr;
    i64 cast_elems = 0;

    void zero(float* p, i64 n);
    void copy(float* dst, const float* src, i64 n);
    void copy_i32(int* dst, const int* src, i64 n);
    void gemm(const GemmRM& g);
    void bias_broadcast(float* out, const float* bias, i64 N, int OC);
    void bias_backward(float* dbias, const float* dout, i64 N, int OC);
    void encoder_forward(float* out, const int* tok, const float* wte, const float* wpe, int B, int T, int C);
    void encoder_backward(float* dwte, float* dwpe, const float* dout, const int* tok, int B, int T, int C);
    void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, i64 N,
                           int C);
    void layernorm_backward_input(float* dx, const float* dout, const float* x, const float* w, const float* mean,
                                  const float* rstd, i64 N, int C);
    void layernorm_backward_weight(float* dw, float* db, const float* dout, const float* x, const float* mean,
                                   const float* rstd, i64 N, int C);
    void causal_softmax_forward(float* att, i64 rows, int T);
    void causal_softmax_backward(float* datt, const float* att, i64 rows, int T);
    void gelu_forward(float* out, const float* x, i64 N);
    void gelu_backward(float* dx, const float* x, const float* dout, i64 N);
    void residual_forward(float* out, const float* a, const float* b, i64 N);
    void residual_backward(float* da, float* db, const float* dout, i64 N);
    void crossentropy_forward(float* probs, float* losses, const float* logits, const int* targets, i64 N, int V);
    void crossentropy_backward(float* dlogits, const float* probs, const int* targets, float dloss, i64 N, int V);
    void add_mean_loss(const float* losses, i64 N);

private:
    // The bf16 operand for an fp32 one spanning `span` elements: its slice of the bf16
    // weight copy, or a cast into `buffer`.
    const void* bf16_operand(const float* p, i64 span, void* buffer);
};

}  // namespace pipelab::gpu
