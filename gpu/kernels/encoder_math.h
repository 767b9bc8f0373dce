#pragma once
// Token + position embedding, the maths the CUDA kernels and their host twins share.
// Reference: core/nn encoder_forward / encoder_backward.
// Letters: B microbatch size, T sequence length, C d_model.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

// Element i of out (B, T, C): out[b,t,c] = wte[inp[b,t], c] + wpe[t, c].
PIPELAB_HD void encoder_forward_at(float* out, const int* inp, const float* wte, const float* wpe, int T, int C,
                                   long long i) {
    const long long bt = i / C;
    const long long c = i % C;
    const long long t = bt % T;
    out[i] = wte[static_cast<long long>(inp[bt]) * C + c] + wpe[t * C + c];
}

// Backward of the token lookup, element i of dout (B, T, C): in the forward wte's row
// inp[b,t] was copied to position (b,t), so its gradient collects dout at every position
// holding that token. Several positions may hold one token: the GPU adds atomically.
PIPELAB_HD void encoder_backward_wte_at(float* dwte, const float* dout, const int* inp, int C, long long i) {
    const long long bt = i / C;
    const long long c = i % C;
    hd_atomic_add(&dwte[static_cast<long long>(inp[bt]) * C + c], dout[i]);
}

// Backward of the position lookup, element i of dwpe (T, C): wpe[t] was added at (b, t)
// for every b, so dwpe[t, c] += sum over b of dout[b, t, c], added in b order as the CPU does.
PIPELAB_HD void encoder_backward_wpe_at(float* dwpe, const float* dout, int B, int T, int C, long long i) {
    float acc = dwpe[i];
    const long long TC = static_cast<long long>(T) * C;
    for (long long b = 0; b < B; ++b) acc += dout[b * TC + i];
    dwpe[i] = acc;
}

}  // namespace pipelab::gpu
