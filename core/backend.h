#pragma once
// The one entry point every front end (CLI, GUI controller) uses to run an experiment:
// pick the backend named in the config and produce a Timeline. Backends:
//   "sim"  the discrete-event simulator (always available)
//   "cpu"  real training on CPU threads (needs the OpenBLAS build of core/nn)
//   "cuda" the GPU backend (needs gpu/ and a device)
// run_backend runs on the caller's thread (never the GUI thread: the controller owns a
// worker) and polls RunControl::cancel between actions/steps.
#include <string>
#include <vector>

#include "core/run_config.h"
#include "core/run_control.h"
#include "core/timeline.h"

namespace pipelab {

struct RunResult {
    Timeline timeline;            // the last step
    std::vector<double> losses;   // one per step (empty for the simulator)
};

struct BackendInfo {
    std::string name;     // "sim", "cpu", "cuda"
    std::string label;    // "Simulator", "CPU threads", "CUDA"
    bool available = false;
    std::string why_not;  // when unavailable: what is missing
};

std::vector<BackendInfo> list_backends();

// Throws ConfigError for an unavailable backend, RunCancelled when cancelled, and
// std::runtime_error naming rank and action when a worker fails.
RunResult run_backend(const RunConfig& cfg, const Plan& plan, RunControl& control);

}  // namespace pipelab
