#include "app/builtin_backends.h"

#include <mutex>

#if PIPELAB_HAVE_CPU_BACKEND
#include "core/nn/cpu_backend.h"
#endif
#if PIPELAB_HAVE_CUDA_BACKEND
#include "gpu/cuda_backend.h"
#endif

namespace pipelab {

void register_builtin_backends() {
    static std::once_flag once;
    std::call_once(once, [] {
#if PIPELAB_HAVE_CPU_BACKEND
        register_cpu_backend();
#endif
#if PIPELAB_HAVE_CUDA_BACKEND
        gpu::register_cuda_backend();
#endif
    });
}

}  // namespace pipelab
