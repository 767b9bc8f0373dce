// Token + position embedding on the GPU: thin launchers around encoder_math.h.
// Letters: B microbatch size, T sequence length, C d_model.
#include "gpu/kernels/encoder_math.h"
#include "gpu/kernels/launch.h"
#include "gpu/kernels/lanes.cuh"

namespace pipelab::gpu {

namespace {
struct EncoderForward {
    float* out;
    const int* tok;
    const float *wte, *wpe;
    int T, C;
    __device__ void operator()(i64 i) const { encoder_forward_at(out, tok, wte, wpe, T, C, i); }
};
struct EncoderBackwardWte {
    float* dwte;
    const float* dout;
    const int* tok;
    int C;
    __device__ void operator()(i64 i) const { encoder_backward_wte_at(dwte, dout, tok, C, i); }
};
struct EncoderBackwardWpe {
    float* dwpe;
    const float* dout;
    int B, T, C;
    __device__ void operator()(i64 i) const { encoder_backward_wpe_at(dwpe, dout, B, T, C, i); }
};
}  // namespace

void launch_encoder_forward(float* out, const int* tok, const float* wte, const float* wpe, int B, int T, int C,
                            cudaStream_t s) {
    launch_for_each(i64{B} * T * C, EncoderForward{out, tok, wte, wpe, T, C}, s);
}

// dwte by atomic adds (one token may sit at many positions), dwpe by a sum over the batch
// per (t, c): no two threads write one element.
void launch_encoder_backward(float* dwte, float* dwpe, const float* dout, const int* tok, int B, int T, int C,
                             cudaStream_t s) {
    launch_for_each(i64{B} * T * C, EncoderBackwardWte{dwte, dout, tok, C}, s);
    launch_for_each(i64{T} * C, EncoderBackwardWpe{dwpe, dout, B, T, C}, s);
}

}  // namespace pipelab::gpu
