#pragma once
// Every matmul of the GPT layers as one row-major, strided-batched description, and its
// translation to cuBLAS's column-major call. Plain C++ (no CUDA headers), so the host
// tests run the translated call through a naive column-major GEMM and compare with
// core/nn's cblas results: the argument mapping is tested without a GPU.
//
// Row-major:  C_i (M, N) = alpha * op(A_i) op(B_i) + beta * C_i, i < batch, where op(A) is
// (M, K): A is stored (M, K) with row stride lda, or (K, M) when ta; likewise B is (K, N),
// or (N, K) when tb. X_i = X + i * sX.
//
// A row-major matrix with row stride ld is the column-major matrix of its transpose with
// the same ld, so C^T (N, M) = op(B)^T op(A)^T is one column-major call with the operands
// swapped: (opB, opA, N, M, K, B, ldb, A, lda, C, ldc).
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pipelab::gpu {

struct Gemm {
    bool ta = false, tb = false;
    int M = 0, N = 0, K = 0;
    const float* A = nullptr;
    int lda = 0;
    std::int64_t sA = 0;
    const float* B = nullptr;
    int ldb = 0;
    std::int64_t sB = 0;
    float* C = nullptr;
    int ldc = 0;
    std::int64_t sC = 0;
    float alpha = 1.0f, beta = 0.0f;
    int batch = 1;
};
// The same fields read two ways: row-major as above (what the layers write), and
// column-major as cuBLAS reads them, C (M, N) = alpha * op(A) (M, K) op(B) (K, N) + beta * C
// with lda the column stride (what to_column_major returns).
using GemmRM = Gemm;
using GemmCM = Gemm;

// Throws std::invalid_argument naming the problem when a leading dimension is shorter than
// a row or a size is not positive: a wrong shape never reaches cuBLAS.
inline void check_gemm(const GemmRM& g, const char* what) {
    const auto bad = [&](const std::string& why) {
        throw std::invalid_argument(std::string("GEMM ") + what + ": " + why + " (M=" + std::to_string(g.M) +
                                    " N=" + std::to_string(g.N) + " K=" + std::to_string(g.K) + ")");
    };
    if (g.M <= 0 || g.N <= 0 || g.K <= 0 || g.batch <= 0) bad("sizes must be positive");
    if (!g.A || !g.B || !g.C) bad("null operand");
    if (g.lda < (g.ta ? g.M : g.K)) bad("lda " + std::to_string(g.lda) + " shorter than a row of A");
    if (g.ldb < (g.tb ? g.K : g.N)) bad("ldb " + std::to_string(g.ldb) + " shorter than a row of B");
    if (g.ldc < g.N) bad("ldc " + std::to_string(g.ldc) + " shorter than a row of C");
}

inline GemmCM to_column_major(const GemmRM& g) {
    GemmCM c = g;
    c.ta = g.tb, c.tb = g.ta;
    c.M = g.N, c.N = g.M;
    c.A = g.B, c.lda = g.ldb, c.sA = g.sB;
    c.B = g.A, c.ldb = g.lda, c.sB = g.sA;
    return c;
}

// Elements from the first to one past the last element an operand touches: (rows, cols)
// row-major with row stride ld, batch items sX apart. The bf16 path casts this span.
inline std::int64_t operand_span(int rows, int cols, int ld, std::int64_t stride, int batch) {
    return static_cast<std::int64_t>(batch - 1) * stride + static_cast<std::int64_t>(rows - 1) * ld + cols;
}
inline std::int64_t span_of_a(const GemmRM& g) {
    return g.ta ? operand_span(g.K, g.M, g.lda, g.sA, g.batch) : operand_span(g.M, g.K, g.lda, g.sA, g.batch);
}
inline std::int64_t span_of_b(const GemmRM& g) {
    return g.tb ? operand_span(g.N, g.K, g.ldb, g.sB, g.batch) : operand_span(g.K, g.N, g.ldb, g.sB, g.batch);
}

}  // namespace pipelab::gpu
