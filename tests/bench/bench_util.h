#pragma once
// Small helpers the benchmarks share.
#include <algorithm>
#include <vector>

namespace pipelab::bench {

// The middle value (the mean of the two middle ones for an even count); 0 when empty.
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace pipelab::bench
