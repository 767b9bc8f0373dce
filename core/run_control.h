#pragma once
// Shared between a front end and a running engine: cancellation and progress.
#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>

namespace pipelab {

struct RunControl {
    std::atomic<bool> cancel{false};
    // Called from worker threads: step done out of steps, with a short status line.
    std::function<void(int step, int steps, const std::string& status)> on_progress;
};

struct RunCancelled : std::runtime_error {
    RunCancelled() : std::runtime_error("run cancelled") {}
};

}  // namespace pipelab
