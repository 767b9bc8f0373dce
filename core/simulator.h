#pragma once
// Discrete-event simulator: turns a validated schedule and a cost model into a Timeline.
// Each rank runs its actions strictly in order. Compute takes the sum of its chunk's
// layer costs; a send is non-blocking (zero time on the sender) and its message arrives
// after the link's latency + bytes / bandwidth; a receive blocks until then. Memory:
// parameters, gradients and optimizer state are resident from the start; a forward
// allocates its chunk's activations, and the backward that consumes them (B, or W when
// split) frees them.
#include "core/cost_model.h"
#include "core/partition.h"
#include "core/schedule.h"
#include "core/timeline.h"

namespace pipelab {

// Preconditions: validate_schedule(s) passed; part.n_chunks() == s.n_chunks();
// cost.layers.size() == part.n_layers. Throws std::invalid_argument otherwise.
Timeline simulate(const Schedule& s, const Partition& part, const CostModel& cost);

}  // namespace pipelab
