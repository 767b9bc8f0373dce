#pragma once
// Activation recomputation as a lowering pass: for each chosen chunk, every microbatch's
// forward keeps only the chunk's input, and an R action (the forward again) runs just
// before that microbatch's backward to rebuild the saved activations. The memory rule
// (core/memory_rule.h) and the executor take it from the R actions in the schedule.
#include <vector>

#include "core/schedule.h"

namespace pipelab {

// recompute[c]: recompute chunk c (missing entries: no). R(c, m) goes right before the
// backward (B or I) of (c, m), ahead of the receive of its output gradient when that
// receive comes just before, so the recomputation overlaps the wait. Works on compute-only
// and on lowered schedules; a schedule that already has R actions is returned unchanged
// for those (chunk, microbatch).
Schedule add_recompute(const Schedule& s, const std::vector<bool>& recompute);

}  // namespace pipelab
