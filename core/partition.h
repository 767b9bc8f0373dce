#pragma once
// Contiguous chunk boundaries over the model's layers. With p ranks and v chunks per rank
// there are p*v chunks; chunk c holds layers [bounds[c], bounds[c+1]). Which rank a chunk
// lives on is the schedule's business (round-robin for interleaved, V-shape for ZB-V).
#include <optional>
#include <string>
#include <vector>

namespace pipelab {

struct Partition {
    int n_layers = 0;
    std::vector<int> bounds;  // size n_chunks + 1; bounds.front() == 0, back() == n_layers

    int n_chunks() const { return static_cast<int>(bounds.size()) - 1; }
    int first_layer(int chunk) const { return bounds[static_cast<std::size_t>(chunk)]; }
    int end_layer(int chunk) const { return bounds[static_cast<std::size_t>(chunk) + 1]; }
    int layer_count(int chunk) const { return end_layer(chunk) - first_layer(chunk); }
    // Interior cut points (n_chunks - 1 values), the form configs use.
    std::vector<int> cuts() const;
};

// Error text naming what is wrong, or nullopt when the partition is usable.
std::optional<std::string> check_partition(const Partition& part, int n_chunks_expected);

// From interior cuts ("boundaries" in a config): [3, 6] over 9 layers -> chunks
// [0,3) [3,6) [6,9). Checked with check_partition by the caller.
Partition partition_from_cuts(int n_layers, const std::vector<int>& cuts);

// Contiguous split of layers with the given weights into n_chunks non-empty chunks that
// minimises the heaviest chunk (exact DP; ties favour earlier cuts). Requires
// n_chunks <= weights.size().
Partition balanced_partition(const std::vector<double>& layer_weights, int n_chunks);

}  // namespace pipelab
