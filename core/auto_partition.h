#pragma once
// Auto-partition: the chunk boundaries that minimise the PREDICTED STEP TIME of a schedule
// (the simulator's, so the last stage's head and loss, the embedding, transfers and the
// schedule's own shape all count, not only a balanced sum of layer costs), under a
// per-rank memory cap (the simulator's peak, which equals the executor's).
//
// Where ranks share a device (CPU threads on fewer cores), near-ties of the prediction are
// ordered by the prediction with a device per rank (2 % weight).
// Small cases are solved exactly: every contiguous split is simulated when there are at
// most `max_exhaustive` of them. Larger ones start from several balanced splits and move
// single cuts (and pairs of neighbouring cuts) while the prediction improves.
#include <cstdint>
#include <string>
#include <vector>

#include "core/cost_model.h"
#include "core/partition.h"
#include "core/schedule.h"

namespace pipelab {

struct PartitionScore {
    double step_us = 0;
    std::vector<std::int64_t> peak_bytes;  // per rank
    std::int64_t max_peak_bytes() const;
    int max_peak_rank() const;
};

// One simulated step of `s` with partition `part`.
PartitionScore score_partition(const Schedule& s, const Partition& part, const CostModel& cost);

struct AutoPartitionOptions {
    std::int64_t memory_cap_bytes = 0;  // per rank; 0 = no cap
    long long max_exhaustive = 5000;    // splits up to which every one is simulated
    int max_rounds = 1000;              // local-search improvement rounds
    int max_run = 4;                    // most neighbouring cuts one move shifts together
};

struct AutoPartitionResult {
    bool feasible = false;  // some split fits the cap
    Partition best;         // fastest split found that fits (when feasible)
    PartitionScore score;
    bool exhaustive = false;  // every split was simulated: best is exact
    long long evaluated = 0;  // splits simulated
    // The split with the smallest largest-rank peak found, and that peak: the smallest cap
    // that works (exact when exhaustive). When infeasible, over_rank is the rank that
    // exceeds the cap by most in that split, with its bytes.
    Partition least_memory;
    std::int64_t min_cap_bytes = 0;
    int over_rank = -1;
    std::int64_t over_bytes = 0;
};

// n_layers: partition units (cost.layers.size()); the schedule fixes p*v chunks.
// Throws std::invalid_argument when there are fewer layers than chunks.
AutoPartitionResult auto_partition(const Schedule& s, const CostModel& cost, const AutoPartitionOptions& opts = {});

// Every split, simulated (for tests and small cases); same result fields.
AutoPartitionResult exhaustive_partition(const Schedule& s, const CostModel& cost, std::int64_t memory_cap_bytes = 0);

// Number of contiguous splits of n layers into k non-empty chunks, C(n-1, k-1), saturated
// at `limit` + 1.
long long count_splits(int n, int k, long long limit);

// "2GiB", "512MiB", "1.5GB", "1000000" -> bytes; throws std::invalid_argument naming the text.
std::int64_t parse_bytes(const std::string& text);
std::string format_bytes(std::int64_t bytes);  // "1.50 GiB", "12.0 MiB"

}  // namespace pipelab
