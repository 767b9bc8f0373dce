#pragma once
// Column sums over rows: the W halves of the linears' bias and of LayerNorm reduce a
// (N, cols) term over N. A GPU thread sums one column over a contiguous slice of rows
// (neighbouring threads take neighbouring columns, so loads coalesce); the slices' partial
// sums are then added in slice order, so the result does not depend on timing.
// Also the finite check and the mean of the per-position losses.
#include "gpu/kernels/hd.h"

namespace pipelab::gpu {

// At most this many row slices per column reduction: the partial-sum buffer holds
// kMaxColumnSplits * K * cols floats.
constexpr int kMaxColumnSplits = 64;

// The bias of a linear: out = inp @ W^T + bias adds bias[c] at every row, so dbias[c]
// collects dout[r, c] over all rows.
struct BiasTerm {
    static constexpr int K = 1;
    const float* dout;  // (N, OC)
    int OC;
    PIPELAB_HD void operator()(long long r, int c, float* acc) const { acc[0] += dout[r * OC + c]; }
};

// acc[k] += term's k-th value at (r, c) for rows [r0, r1) of column c.
PIPELAB_HD_TEMPLATE template <class Term>
PIPELAB_HD void column_sums(const Term& term, long long r0, long long r1, int c, float* acc) {
    for (long long r = r0; r < r1; ++r) term(r, c, acc);
}

// True when x is neither NaN nor +-Inf.
PIPELAB_HD bool finite_value(float x) { return isfinite(x); }

// The mean of n per-position losses, summed in double as the CPU head does; every lane
// gets it.
PIPELAB_HD_TEMPLATE template <class G>
PIPELAB_HD float mean_loss(const G& g, const float* losses, long long n) {
    double s = 0.0;
    for (long long i = g.rank(); i < n; i += g.size()) s += losses[i];
    s = g.sum(s);
    return static_cast<float>(s / static_cast<double>(n));
}

}  // namespace pipelab::gpu
