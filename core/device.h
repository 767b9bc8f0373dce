#pragma once
// What a device does for the executor (core/executor.h), and nothing more: hand out and
// take back memory, copy a buffer to another rank, put timing marks around actions and
// turn them into one clock after the step, check a buffer for NaN/Inf, and name itself.
// The executor's loop (workers, mailboxes, watchdog, cancellation, accounting, the
// Timeline) is written once over this interface; the CPU device (core/host_device.h) and
// the CUDA device (gpu/) are the two suppliers.
//
// Threading: every call that names a rank is made on that rank's worker thread, except
// copy_to_rank (on the sender's thread, naming both ranks) and start_clock / mark_times_us
// (on the thread that runs the step, while no worker runs).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace pipelab {

// Memory of one rank's device: host memory for the CPU device, device memory for CUDA.
struct DeviceBuffer {
    void* data = nullptr;
    std::int64_t bytes = 0;

    explicit operator bool() const { return data != nullptr; }
    float* f32() const { return static_cast<float*>(data); }
    std::byte* raw() const { return static_cast<std::byte*>(data); }
};

// An allocation the device cannot satisfy; the message names the rank, the bytes asked
// for and what was free, so the user knows what to change.
struct DeviceOutOfMemory : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Device {
public:
    virtual ~Device() = default;

    virtual std::string kind() const = 0;           // "cpu", "cuda": the Timeline's backend
    virtual std::string label(int rank) const = 0;  // "cpu thread 1", "NVIDIA H200 (GPU 0)"

    // Around one step on a rank's thread (CUDA: bind the thread to the rank's GPU; at the
    // end, wait until the rank's queued work has finished and surface its errors).
    virtual void begin_step(int /*rank*/) {}
    virtual void end_step(int /*rank*/) {}

    // Throws DeviceOutOfMemory. The contents are undefined: every consumer writes first.
    virtual DeviceBuffer allocate(int rank, std::int64_t bytes) = 0;
    virtual void release(int rank, DeviceBuffer buffer) = 0;

    // Copies `from` (on src, written by src's earlier actions) into `to` (allocated for dst).
    // Called at src's SEND. `to` may be a buffer dst used before: `to_free_after` is the
    // mark (a token from mark(dst), 0 for none) after which dst no longer touches it, and
    // the copy must not write `to` before that mark. When it returns, src's later actions
    // may overwrite `from`: the device orders them after the copy. Returns a ticket that
    // dst passes to wait_for_copy.
    virtual std::uint64_t copy_to_rank(int src, int dst, const DeviceBuffer& from, const DeviceBuffer& to,
                                       std::uint64_t to_free_after) = 0;
    // At dst's RECV, before `to` is used: dst's later actions see the copy complete.
    virtual void wait_for_copy(int /*dst*/, std::uint64_t /*ticket*/) {}

    // Timing. start_clock() sets time zero for every rank just before the workers start;
    // each rank then marks the start and the end of each of its actions, in order (and
    // memory changes are tied to those marks). After end_step on every rank,
    // mark_times_us(rank) gives the rank's marks in µs since time zero, on one clock.
    // A mark is also a fence: mark() returns a token (0 where the device needs none, as a
    // synchronous one) that copy_to_rank can wait for, valid until the step ends.
    virtual void start_clock() = 0;
    virtual std::uint64_t mark(int rank) = 0;
    virtual std::vector<double> mark_times_us(int rank) = 0;

    // True when the n floats at data (on the rank's device) are all finite.
    virtual bool all_finite(int rank, const float* data, std::int64_t n) = 0;
};

}  // namespace pipelab
