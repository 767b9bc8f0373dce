#pragma once
// Per-layer costs read back from a run, and the layer-cost rule every front end shares.
#include <vector>

#include "core/cost_model.h"
#include "core/partition.h"
#include "core/timeline.h"

namespace pipelab {

// F + I + W per layer (µs per microbatch): the weight a balanced partition evens out.
std::vector<double> layer_step_costs_us(const CostModel& cost);

// The partition a config gets when it names no boundaries: balanced by layer_step_costs_us.
Partition balanced_by_cost(const CostModel& cost, int n_chunks);

// Per-layer cost (F + B, µs per microbatch) as a real run measured it: each chunk's
// measured compute time, per microbatch, spread over its layers in proportion to the cost
// model (a run times chunks, not layers). Empty when the partition does not fit the cost
// model's layers.
std::vector<double> measured_layer_costs(const Timeline& tl, const Partition& part, const CostModel& cost);

}  // namespace pipelab
