#pragma once
// The order of a rank whose schedule writes no marks (PyTorch's Schedule1F1B), inferred
// from its operators: forward work is operators run outside the autograd engine,
// backward work is autograd::engine::evaluate_function; a run of one or the other,
// ended by a send/recv post or by the other kind, is one action. Microbatches are
// numbered in order of the runs. The importer then checks the inferred order with the
// validator and says in its notes that it was inferred.
#include <string>
#include <vector>

#include "core/action.h"

namespace pipelab {

// One top-level operator of a rank (not nested in another operator of its thread).
struct OpSpan {
    double start = 0, end = 0;
    enum Class : unsigned char { Forward, Backward, Comm } cls = Forward;
};

// A compute action with the CPU range it covers (file clock, µs).
struct TimedAction {
    Action action;
    bool own_stage = false;  // the chunk is the rank's own stage, filled in by the importer
    double start = 0, end = 0;
    double cpu_start = 0, cpu_end = 0;  // where its launches are looked for (GPU traces)
};

// ops: any order. Returns F and B actions (own_stage, chunk 0) in time order, and appends
// to notes what was dropped: forward-looking work after the last backward (gradient
// scaling), backward work before the first forward, and small runs beyond one per
// microbatch (input preparation). Empty without forward or without backward work
// (not a training step).
std::vector<TimedAction> infer_actions(std::vector<OpSpan> ops, std::vector<std::string>& notes);

}  // namespace pipelab
