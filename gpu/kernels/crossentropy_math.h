#pragma once
// Fused softmax + cross-entropy of the LM head. Reference: core/nn
// crossentropy_softmax_forward / crossentropy_softmax_backward.
// Letters: N rows (B*T), V vocabulary.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

// One row: probs = softmax(logits) over V (probs may alias logits) and
// loss = -log probs[target]. The target's logit is read before any lane overwrites the
// row (g.max orders the read before the writes), and its probability is formed with the
// same two roundings as the stored one.
PIPELAB_HD_TEMPLATE template <class G>
PIPELAB_HD void crossentropy_forward_row(const G& g, float* probs, float* loss, const float* logits, int target,
                                         int V) {
    const float lt = logits[target];
    float maxv = -INFINITY;
    for (int i = g.rank(); i < V; i += g.size()) maxv = fmaxf(maxv, logits[i]);
    maxv = g.max(maxv);
    float sum = 0.0f;
    for (int i = g.rank(); i < V; i += g.size()) {
        const float e = expf(logits[i] - maxv);
        probs[i] = e;
        sum += e;
    }
    const float inv = 1.0f / g.sum(sum);
    for (int i = g.rank(); i < V; i += g.size()) probs[i] *= inv;
    if (g.rank() == 0) *loss = -logf(expf(lt - maxv) * inv);
}

// Element i of dlogits (N, V): d loss / d logit_v = probs_v - [v == target], times the
// weight of this position in the loss (1 / (B*T) for the mean).
PIPELAB_HD void crossentropy_backward_at(float* dlogits, const float* probs, const int* targets, float dloss, int V,
                                         long long i) {
    const long long row = i / V;
    const int v = static_cast<int>(i % V);
    const float indicator = v == targets[row] ? 1.0f : 0.0f;
    dlogits[i] += (probs[i] - indicator) * dloss;
}

}  // namespace pipelab::gpu
