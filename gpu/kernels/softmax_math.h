#pragma once
// The causal softmax inside attention, per row of the (T, T) score matrix of one
// (batch, head): row t may attend to keys j <= t only. The scores themselves and the
// products around them are cuBLAS GEMMs (gpu/gpt_layer_math.h).
// Reference: the per-row loops of core/nn attention_forward / attention_backward.
// Letters: T sequence length.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

// In place: row[j] = exp(row[j] - max) / sum over j <= t, and exactly 0 for j > t.
PIPELAB_HD_TEMPLATE template <class G>
PIPELAB_HD void causal_softmax_forward_row(const G& g, float* row, int t, int T) {
    float maxv = -INFINITY;
    for (int j = g.rank(); j <= t; j += g.size()) maxv = fmaxf(maxv, row[j]);
    maxv = g.max(maxv);
    float sum = 0.0f;
    for (int j = g.rank(); j <= t; j += g.size()) {
        const float e = expf(row[j] - maxv);
        row[j] = e;
        sum += e;
    }
    const float inv = 1.0f / g.sum(sum);
    for (int j = g.rank(); j <= t; j += g.size()) row[j] *= inv;
    for (int j = t + 1 + g.rank(); j < T; j += g.size()) row[j] = 0.0f;
}

// In place on drow: the forward was a_j = exp(s_j) / sum_i exp(s_i), so
// ds_j = sum_i da_i * a_i * (delta_ij - a_j) = a_j * (da_j - sum_i a_i da_i); 0 above t.
PIPELAB_HD_TEMPLATE template <class G>
PIPELAB_HD void causal_softmax_backward_row(const G& g, float* drow, const float* arow, int t, int T) {
    float dot = 0.0f;
    for (int j = g.rank(); j <= t; j += g.size()) dot += arow[j] * drow[j];
    dot = g.sum(dot);
    for (int j = g.rank(); j <= t; j += g.size()) drow[j] = arow[j] * (drow[j] - dot);
    for (int j = t + 1 + g.rank(); j < T; j += g.size()) drow[j] = 0.0f;
}

}  // namespace pipelab::gpu
