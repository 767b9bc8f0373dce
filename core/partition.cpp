#include "core/partition.h"

#include <algorithm>
#include <limits>

namespace pipelab {

std::vector<int> Partition::cuts() const {
    if (bounds.size() < 2) return {};
    return std::vector<int>(bounds.begin() + 1, bounds.end() - 1);
}

std::optional<std::string> check_partition(const Partition& part, int n_chunks_expected) {
    if (part.n_chunks() != n_chunks_expected)
        return "partition has " + std::to_string(std::max(part.n_chunks(), 0)) +
               " chunks, the pipeline needs stages*chunks = " + std::to_string(n_chunks_expected) + " (give " +
               std::to_string(n_chunks_expected - 1) + " boundaries)";
    if (part.bounds.front() != 0 || part.bounds.back() != part.n_layers)
        return "partition must cover layers 0.." + std::to_string(part.n_layers - 1);
    for (int c = 0; c < part.n_chunks(); ++c) {
        if (part.layer_count(c) <= 0)
            return "chunk " + std::to_string(c) + " is empty: boundaries must be strictly " +
                   "increasing and lie in 1.." + std::to_string(part.n_layers - 1);
    }
    return std::nullopt;
}

Partition partition_from_cuts(int n_layers, const std::vector<int>& cuts) {
    Partition p;
    p.n_layers = n_layers;
    p.bounds.push_back(0);
    p.bounds.insert(p.bounds.end(), cuts.begin(), cuts.end());
    p.bounds.push_back(n_layers);
    return p;
}

Partition balanced_partition(const std::vector<double>& w, int n_chunks) {
    const int n = static_cast<int>(w.size());
    Partition part;
    part.n_layers = n;
    if (n_chunks <= 0 || n_chunks > n) return part;  // caller checks; bounds stay empty

    std::vector<double> prefix(static_cast<std::size_t>(n) + 1, 0.0);
    for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + w[static_cast<std::size_t>(i)];
    const auto sum = [&](int a, int b) { return prefix[b] - prefix[a]; };

    // best[i] after round k: minimal max-chunk cost splitting layers [0, i) into k chunks.
    // The last chunk [j, i) is tried from short to long; once its own cost exceeds the best
    // found, longer ones cannot win (weights are >= 0), so a round costs about n * n / k.
    const double inf = std::numeric_limits<double>::infinity();
    const auto N = static_cast<std::size_t>(n) + 1;
    std::vector<double> prev(N, inf), best(N, inf);
    std::vector<std::vector<int>> cut(static_cast<std::size_t>(n_chunks) + 1, std::vector<int>(N, 0));
    prev[0] = 0.0;
    for (int k = 1; k <= n_chunks; ++k) {
        std::fill(best.begin(), best.end(), inf);
        for (int i = k; i <= n - (n_chunks - k); ++i) {
            for (int j = i - 1; j >= k - 1; --j) {
                const double seg = sum(j, i);
                if (seg > best[i]) break;
                const double c = std::max(prev[j], seg);
                // <= while j falls keeps the earliest cut among equals: deterministic.
                if (c <= best[i] + 1e-12 * std::max(1.0, c)) {
                    best[i] = c;
                    cut[k][i] = j;
                }
            }
        }
        std::swap(prev, best);
    }
    part.bounds.assign(static_cast<std::size_t>(n_chunks) + 1, 0);
    int i = n;
    for (int k = n_chunks; k >= 1; --k) {
        part.bounds[k] = i;
        i = cut[k][i];
    }
    part.bounds[0] = 0;
    return part;
}

}  // namespace pipelab
