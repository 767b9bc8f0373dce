#pragma once
// The executor: runs a validated Schedule for real on any Device (core/device.h), one
// worker thread per rank, each running its action list strictly in order. Activations and
// gradients cross between ranks as device buffers through per-rank mailboxes (a send
// copies the buffer out, a receive waits until it has arrived). Which buffer each action
// allocates and frees is the memory rule of core/memory_rule.h, accounted per rank, so the
// memory plot is exact and equals the simulator's. Times come from the device's marks.
//
// The maths is not here: each rank gets a StageCompute that owns the parameters of its
// chunks and computes forward / backward-input / backward-weight on buffers the executor
// allocates on the device (so the executor sees every byte).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/memory_rule.h"
#include "core/run_control.h"
#include "core/schedule.h"
#include "core/timeline.h"

namespace pipelab {

// One rank's share of the model. Called only from that rank's worker thread; pointers are
// device pointers of the executor's device. Boundary tensors (input, output and their
// gradients) are (B, T, C) fp32.
class StageCompute {
public:
    virtual ~StageCompute() = default;
    // Bytes of one microbatch's buffers of a chunk this rank holds.
    virtual ChunkSizes buffers(int chunk) const = 0;
    // Bytes resident for the whole step: parameters, gradients, optimizer state.
    virtual std::int64_t param_bytes() const = 0;
    virtual std::int64_t grad_bytes() const = 0;
    virtual std::int64_t optimizer_bytes() const = 0;
    // Transient buffers the stage reuses across actions (ping-pong layer outputs, scratch).
    virtual std::int64_t workspace_bytes() const { return 0; }
    // Zeroes the gradients and the loss sum.
    virtual void zero_grad() = 0;
    // input: from the previous chunk, nullptr for chunk 0 (it reads tokens). output:
    // nullptr for the last chunk, which adds its microbatch's loss (mean over tokens) to
    // the loss sum instead. Overwrites saved.
    virtual void forward(int chunk, int mb, const float* input, std::byte* saved, float* output) = 0;
    // Activation recomputation: the forward again, from the same input, refilling saved
    // (no output, and the loss is not counted twice).
    virtual void recompute(int chunk, int mb, const float* input, std::byte* saved) = 0;
    // dout: gradient of the chunk's output, nullptr for the last chunk (it starts from its
    // loss). dinput: nullptr for chunk 0. Leaves in pending what W needs.
    virtual void backward_input(int chunk, int mb, const float* dout, std::byte* saved, std::byte* pending,
                                float* dinput) = 0;
    // Accumulates the parameter gradients of the chunk for this microbatch.
    virtual void backward_weight(int chunk, int mb, const std::byte* saved, const std::byte* pending) = 0;
    // The sum of the microbatch losses since zero_grad (0 on ranks without the last chunk);
    // called once after the step's actions (a device may synchronise here).
    virtual double loss_sum() = 0;
    virtual void optimizer_step(int step) = 0;
};

struct ExecutorOptions {
    double watchdog_s = 30.0;   // a receive waiting longer than this is reported as a stall
    bool check_finite = false;  // check every output/gradient buffer for NaN/Inf
};

// A worker failed: names the rank and the action; grid is the schedule with that action
// marked, as the validator prints it.
struct ExecutorError : std::runtime_error {
    ExecutorError(int rank_, int index_, const std::string& what, std::string grid_ = {})
        : std::runtime_error(what), rank(rank_), index(index_), grid(std::move(grid_)) {}
    int rank;
    int index;
    std::string grid;
};

struct StepOutcome {
    Timeline timeline;
    double loss = 0;  // mean over microbatches
};

// Runs training steps of one schedule on one device. Buffers are pooled per rank across
// steps (a caching allocator: a step asks for the same sizes every microbatch).
class Executor {
public:
    // stages[r] computes for rank r. Throws std::invalid_argument on a size mismatch.
    Executor(const Schedule& s, std::vector<StageCompute*> stages, Device& device, ExecutorOptions opts = {});
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // One step: zero_grad, the schedule, optimizer_step on every rank. Throws ExecutorError
    // (a worker failed or stalled) or RunCancelled when `cancel` becomes true; every thread
    // has been joined by then, and no rank has run its optimizer.
    StepOutcome step(int step, const std::atomic<bool>* cancel = nullptr);

    struct Impl;  // defined in executor.cpp, shared with its workers

private:
    std::unique_ptr<Impl> m_impl;
};

// One step on host memory (the CPU device): for tests and tools.
StepOutcome execute_step(const Schedule& s, const std::vector<StageCompute*>& stages, int step,
                         const ExecutorOptions& opts, const std::atomic<bool>* cancel);

}  // namespace pipelab
