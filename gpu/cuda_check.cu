#include "gpu/cuda_check.h"

namespace pipelab::gpu {

namespace {
std::string where(const char* call, const char* file, int line) {
    std::string f = file;
    const auto slash = f.rfind("/gpu/");
    if (slash != std::string::npos) f = f.substr(slash + 1);  // "gpu/cuda_stage.cu"
    return std::string(call) + " at " + f + ":" + std::to_string(line);
}
}  // namespace

void throw_cuda_error(cudaError_t e, const char* call, const char* file, int line) {
    // Out-of-memory is not sticky: clear it so that the next call starts clean.
    if (e == cudaErrorMemoryAllocation) cudaGetLastError();
    throw CudaError(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " +
                    where(call, file, line));
}

void throw_cublas_error(cublasStatus_t s, const char* call, const char* file, int line) {
    throw CudaError(std::string("cuBLAS error ") + cublasGetStatusName(s) + " (" + cublasGetStatusString(s) + ") in " +
                    where(call, file, line));
}

DeviceGuard::DeviceGuard(int device) {
    PIPELAB_CUDA_CHECK(cudaGetDevice(&m_prev));
    if (m_prev != device) PIPELAB_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
    int now = -1;
    if (cudaGetDevice(&now) == cudaSuccess && now != m_prev && m_prev >= 0) cudaSetDevice(m_prev);
}

}  // namespace pipelab::gpu
