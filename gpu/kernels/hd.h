#pragma once
// The one place that lets a function be compiled for the GPU and the host alike. Every
// per-element and per-row formula of the CUDA kernels lives in a header of this folder as
// a PIPELAB_HD function, so g++ compiles the very same code into the host tests that
// compare it with core/nn's ops (tests/gpu/tst_kernel_math.cpp), on a machine without a
// GPU; the .cu files only wrap these functions in thin launchers.
//
// A per-row function takes a "lanes" object G that says which share of the row this
// caller works on and how partial results are combined:
//   g.rank(), g.size()  this caller is lane rank of size lanes; it handles the elements
//                       i = rank, rank + size, ... of the row
//   g.sum(x), g.max(x)  combines one partial value per lane; every lane gets the result
//   g.sync()            every lane's earlier writes are visible to every lane
// On the host SerialLanes is one lane (the loop is the plain serial loop); on the GPU a
// warp (32 lanes, shuffles) or a block (shared memory) runs the row (lanes.cuh).
#include <math.h>
#include <string.h>

#ifdef __CUDACC__
#define PIPELAB_HD __host__ __device__ __forceinline__
// A template instantiated with device-only lanes calls device-only members from a
// __host__ __device__ body; this tells nvcc that only such instantiations exist.
#define PIPELAB_HD_TEMPLATE _Pragma("nv_exec_check_disable")
#else
#define PIPELAB_HD inline
#define PIPELAB_HD_TEMPLATE
#endif

namespace pipelab::gpu {

struct SerialLanes {
    PIPELAB_HD int rank() const { return 0; }
    PIPELAB_HD int size() const { return 1; }
    PIPELAB_HD float sum(float x) const { return x; }
    PIPELAB_HD double sum(double x) const { return x; }
    PIPELAB_HD float max(float x) const { return x; }
    PIPELAB_HD void sync() const {}
};

// p += v; atomically on the GPU, where several threads may add to one element.
PIPELAB_HD void hd_atomic_add(float* p, float v) {
#ifdef __CUDA_ARCH__
    atomicAdd(p, v);
#else
    *p += v;
#endif
}

// fp32 -> bf16 -> fp32, round to nearest even (what __float2bfloat16_rn does): the value a
// bf16 GEMM operand holds. Used by the host emulation of the bf16 path; NaN stays NaN.
PIPELAB_HD float round_to_bf16(float x) {
    unsigned int u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) return x;  // NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    float y;
    memcpy(&y, &u, sizeof y);
    return y;
}

}  // namespace pipelab::gpu
