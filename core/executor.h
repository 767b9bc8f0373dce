#pragma once
// The executor: runs a validated Schedule for real, one worker thread per rank, each
// running its action list strictly in order. Activations and gradients cross between
// ranks as real buffers through per-rank mailboxes (a send copies the buffer out, a
// receive blocks until it arrives). Every action is timed on one steady clock and every
// buffer is accounted, so the result is the same Timeline the simulator makes.
//
// The maths is not here: each rank gets a StageCompute that owns the parameters of its
// chunks and computes forward / backward-input / backward-weight on buffers the executor
// allocates (so the executor sees every byte).
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/run_control.h"
#include "core/schedule.h"
#include "core/timeline.h"

namespace pipelab {

// Floats the executor allocates for one (chunk, microbatch).
struct ChunkBuffers {
    std::int64_t saved = 0;      // activations kept from F for the backward
    std::int64_t w_scratch = 0;  // what I leaves for W (output gradients of each linear)
    std::int64_t boundary = 0;   // the (B, T, C) tensor crossing the chunk's boundaries
};

// One rank's share of the model. Called only from that rank's worker thread.
class StageCompute {
public:
    virtual ~StageCompute() = default;
    virtual ChunkBuffers buffers(int chunk) const = 0;
    // Bytes resident for the whole step: parameters, gradients, optimizer state.
    virtual std::int64_t param_bytes() const = 0;
    virtual std::int64_t grad_bytes() const = 0;
    virtual std::int64_t optimizer_bytes() const = 0;
    // Transient buffers the stage reuses across actions (ping-pong layer outputs, scratch).
    virtual std::int64_t workspace_bytes() const { return 0; }
    virtual void zero_grad() = 0;
    // input: (B,T,C) from the previous chunk, nullptr for the first chunk (it reads
    // tokens). output: (B,T,C), nullptr for the last chunk, which returns the loss of
    // the microbatch (mean over its tokens); other chunks return 0.
    virtual double forward(int chunk, int mb, const float* input, float* saved, float* output) = 0;
    // dout: gradient of the chunk's output, nullptr for the last chunk (it starts from
    // its loss). dinput: nullptr for the first chunk. Leaves in w_scratch what W needs.
    virtual void backward_input(int chunk, int mb, const float* dout, float* saved, float* w_scratch,
                                float* dinput) = 0;
    // Accumulates the parameter gradients of the chunk for this microbatch.
    virtual void backward_weight(int chunk, int mb, const float* saved, const float* w_scratch) = 0;
    virtual void optimizer_step(int step) = 0;
};

struct ExecutorOptions {
    double watchdog_s = 30.0;  // a receive waiting longer than this is reported as a stall
    bool check_finite = false; // check every output/gradient buffer for NaN/Inf
};

// A worker failed: names the rank and the action.
struct ExecutorError : std::runtime_error {
    ExecutorError(int rank_, int index_, const std::string& what)
        : std::runtime_error(what), rank(rank_), index(index_) {}
    int rank;
    int index;
};

struct StepOutcome {
    Timeline timeline;
    double loss = 0;  // mean over microbatches
};

// Runs one training step (zero_grad, the schedule, optimizer_step on every rank).
// `stages[r]` computes for rank r. Throws ExecutorError (a worker failed or stalled) or
// RunCancelled when `cancel` becomes true; every thread has been joined
// and every buffer freed by then.
StepOutcome execute_step(const Schedule& s, const std::vector<StageCompute*>& stages, int step,
                         const ExecutorOptions& opts, const std::atomic<bool>* cancel);

}  // namespace pipelab
