#include "gpu/cuda_ops.h"

#include <string>

#include "gpu/cuda_check.h"
#include "gpu/kernels/launch.h"

namespace pipelab::gpu {

void CudaOps::zero(float* p, i64 n) {
    PIPELAB_CUDA_CHECK(cudaMemsetAsync(p, 0, static_cast<std::size_t>(n) * sizeof(float), stream));
}
void CudaOps::copy(float* dst, const float* src, i64 n) {
    PIPELAB_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, static_cast<std::size_t>(n) * sizeof(float), cudaMemcpyDeviceToDevice, stream));
}
void CudaOps::copy_i32(int* dst, const int* src, i64 n) {
    PIPELAB_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, static_cast<std::size_t>(n) * sizeof(int), cudaMemcpyDeviceToDevice, stream));
}

const void* CudaOps::bf16_operand(const float* p, i64 span, void* buffer) {
    if (p >= params && p < params + n_params) {
        if (p + span > params + n_params)
            throw std::invalid_argument("bf16 GEMM: a weight operand runs past the parameters");
        return static_cast<const std::uint16_t*>(params_bf16) + (p - params);
    }
    if (span > cast_elems)
        throw std::invalid_argument("bf16 GEMM: operand of " + std::to_string(span) +
                                    " elements, the cast buffer holds " + std::to_string(cast_elems));
    launch_cast_to_bf16(buffer, p, span, stream);
    return buffer;
}

void CudaOps::gemm(const GemmRM& rm) {
    check_gemm(rm, "cuda");
    const GemmCM g = to_column_major(rm);
    const cublasOperation_t ta = g.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t tb = g.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    const void* A = g.A;
    const void* B = g.B;
    cudaDataType_t in_type = CUDA_R_32F;
    cublasComputeType_t compute = precision == Precision::TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    if (precision == Precision::BF16) {
        // column-major A is the row-major B and vice versa (gemm_plan.h)
        A = bf16_operand(g.A, span_of_b(rm), cast_a);
        B = bf16_operand(g.B, span_of_a(rm), cast_b);
        in_type = CUDA_R_16BF;
        compute = CUBLAS_COMPUTE_32F;
    }
    if (g.batch == 1) {
        PIPELAB_CUBLAS_CHECK(cublasGemmEx(blas, ta, tb, g.M, g.N, g.K, &g.alpha, A, in_type, g.lda, B, in_type, g.ldb,
                                          &g.beta, g.C, CUDA_R_32F, g.ldc, compute, CUBLAS_GEMM_DEFAULT));
    } else {
        PIPELAB_CUBLAS_CHECK(cublasGemmStridedBatchedEx(blas, ta, tb, g.M, g.N, g.K, &g.alpha, A, in_type, g.lda, g.sA,
                                                        B, in_type, g.ldb, g.sB, &g.beta, g.C, CUDA_R_32F, g.ldc, g.sC,
                                                        g.batch, compute, CUBLAS_GEMM_DEFAULT));
    }
}

void CudaOps::bias_broadcast(float* out, const float* bias, i64 N, int OC) {
    launch_bias_broadcast(out, bias, N, OC, stream);
}
void CudaOps::bias_backward(float* dbias, const float* dout, i64 N, int OC) {
    launch_bias_backward(dbias, dout, N, OC, partials, partial_floats, stream);
}
void CudaOps::encoder_forward(float* out, const int* tok, const float* wte, const float* wpe, int B, int T, int C) {
    launch_encoder_forward(out, tok, wte, wpe, B, T, C, stream);
}
void CudaOps::encoder_backward(float* dwte, float* dwpe, const float* dout, const int* tok, int B, int T, int C) {
    launch_encoder_backward(dwte, dwpe, dout, tok, B, T, C, stream);
}
void CudaOps::layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b,
                                i64 N, int C) {
    launch_layernorm_forward(out, mean, rstd, x, w, b, N, C, stream);
}
void CudaOps::layernorm_backward_input(float* dx, const float* dout, const float* x, const float* w, const float* mean,
                                       const float* rstd, i64 N, int C) {
    launch_layernorm_backward_input(dx, dout, x, w, mean, rstd, N, C, stream);
}
void CudaOps::layernorm_backward_weight(float* dw, float* db, const float* dout, const float* x, const float* mean,
                                        const float* rstd, i64 N, int C) {
    launch_layernorm_backward_weight(dw, db, dout, x, mean, rstd, N, C, partials, partial_floats, stream);
}
void CudaOps::causal_softmax_forward(float* att, i64 rows, int T) {
    launch_causal_softmax_forward(att, rows, T, stream);
}
void CudaOps::causal_softmax_backward(float* datt, const float* att, i64 rows, int T) {
    launch_causal_softmax_backward(datt, att, rows, T, stream);
}
void CudaOps::gelu_forward(float* out, const float* x, i64 N) { launch_gelu_forward(out, x, N, stream); }
void CudaOps::gelu_backward(float* dx, const float* x, const float* dout, i64 N) {
    launch_gelu_backward(dx, x, dout, N, stream);
}
void CudaOps::residual_forward(float* out, const float* a, const float* b, i64 N) {
    launch_residual_forward(out, a, b, N, stream);
}
void CudaOps::residual_backward(float* da, float* db, const float* dout, i64 N) {
    launch_residual_backward(da, db, dout, N, stream);
}
void CudaOps::crossentropy_forward(float* probs, float* losses, const float* logits, const int* targets, i64 N, int V) {
    launch_crossentropy_forward(probs, losses, logits, targets, N, V, stream);
}
void CudaOps::crossentropy_backward(float* dlogits, const float* probs, const int* targets, float dloss, i64 N, int V) {
    launch_crossentropy_backward(dlogits, probs, targets, dloss, N, V, stream);
}
void CudaOps::add_mean_loss(const float* losses, i64 N) { launch_add_mean_loss(loss_sum, losses, N, stream); }

}  // namespace pipelab::gpu
