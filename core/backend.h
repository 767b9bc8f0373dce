#pragma once
// The one entry point every front end (CLI, GUI controller) uses to run an experiment:
// pick the backend named in the config and produce a Timeline. Backends register
// themselves here; core knows only the simulator and never includes a backend's code:
//   "sim"  the discrete-event simulator (core, always available)
//   "cpu"  real training on CPU threads (core/nn: register_cpu_backend)
//   "cuda" real training on CUDA GPUs (gpu/: register_cuda_backend)
// A front end calls the registration functions it links once at start-up
// (app/builtin_backends.h does that for the CLI, the app and the tests).
// run_backend runs on the caller's thread (never the GUI thread: the controller owns a
// worker) and polls RunControl::cancel between actions/steps.
#include <functional>
#include <string>
#include <vector>

#include "core/executor.h"
#include "core/run_config.h"
#include "core/run_control.h"
#include "core/timeline.h"

namespace pipelab {

struct RunResult {
    Timeline timeline;                  // the last step
    std::vector<double> losses;         // one per step (empty for the simulator)
    std::vector<double> step_times_us;  // one per step (the simulator's one step)
};

struct BackendInfo {
    std::string name;   // "sim", "cpu", "cuda"
    std::string label;  // "Simulator", "CPU threads", "CUDA"
    bool available = false;
    std::string why_not;  // when unavailable: what is missing ("no CUDA device: ...")
};

struct BackendEntry {
    std::string name;
    std::string label;
    // "" when the backend can run here, else why not (asked each time: devices come and go).
    std::function<std::string()> unavailable;
    std::function<RunResult(const RunConfig&, const Plan&, RunControl&)> run;
};

// Adds a backend, or replaces the one of the same name. Thread-safe.
void register_backend(BackendEntry entry);

// sim, cpu and cuda always appear (one not linked into this program says so), then any
// other registered backend.
std::vector<BackendInfo> list_backends();

// The training loop every real backend shares: steps 1..steps, each one's loss and
// measured step time kept, progress reported as "step S loss L (T ms)". Throws what
// `step` throws (RunCancelled, ExecutorError).
RunResult run_training_steps(int steps, RunControl& control,
                             const std::function<StepOutcome(int step, const std::atomic<bool>* cancel)>& step);

// Throws ConfigError for an unavailable backend, RunCancelled when cancelled, and
// std::runtime_error naming rank and action when a worker fails.
RunResult run_backend(const RunConfig& cfg, const Plan& plan, RunControl& control);

}  // namespace pipelab
