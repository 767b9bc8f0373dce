#pragma once
// Error checks for every CUDA and cuBLAS call: a failure throws CudaError naming the call,
// the file and the line, so the executor reports it with the rank and action and the app
// keeps running.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace pipelab::gpu {

struct CudaError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* call, const char* file, int line);

// Makes device d current for this thread while it lives, and restores the previous one.
class DeviceGuard {
public:
    explicit DeviceGuard(int device);
    ~DeviceGuard();
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;

private:
    int m_prev = -1;
};

}  // namespace pipelab::gpu

#define PIPELAB_CUDA_CHECK(call)                                                                                \
    do {                                                                                                        \
        const cudaError_t pipelab_e_ = (call);                                                                  \
        if (pipelab_e_ != cudaSuccess) ::pipelab::gpu::throw_cuda_error(pipelab_e_, #call, __FILE__, __LINE__); \
    } while (0)
#define PIPELAB_CUBLAS_CHECK(call)                                                     \
    do {                                                                               \
        const cublasStatus_t pipelab_s_ = (call);                                      \
        if (pipelab_s_ != CUBLAS_STATUS_SUCCESS)                                       \
            ::pipelab::gpu::throw_cublas_error(pipelab_s_, #call, __FILE__, __LINE__); \
    } while (0)
// After a kernel launch: a bad configuration shows here, a fault at the next synchronisation.
#define PIPELAB_CUDA_CHECK_LAUNCH() PIPELAB_CUDA_CHECK(cudaGetLastError())
