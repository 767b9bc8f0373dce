#include "core/backend.h"

#include "core/simulator.h"

#if PIPELAB_HAVE_CPU_BACKEND
#include "core/nn/cpu_backend.h"
#endif

namespace pipelab {

std::vector<BackendInfo> list_backends() {
    std::vector<BackendInfo> out;
    out.push_back({"sim", "Simulator", true, ""});
#if PIPELAB_HAVE_CPU_BACKEND
    out.push_back({"cpu", "CPU threads", true, ""});
#else
    out.push_back({"cpu", "CPU threads", false, "built without OpenBLAS (install libopenblas-dev and rebuild)"});
#endif
    out.push_back({"cuda", "CUDA", false, "the CUDA backend is not part of this build yet"});
    return out;
}

RunResult run_backend(const RunConfig& cfg, const Plan& plan, RunControl& control) {
    for (const BackendInfo& b : list_backends()) {
        if (b.name != cfg.backend) continue;
        if (!b.available) throw ConfigError("backend", "\"" + b.name + "\" is not available: " + b.why_not);
        if (b.name == "sim") {
            if (control.cancel.load()) throw RunCancelled();
            RunResult r;
            r.timeline = simulate(plan.schedule, plan.partition, plan.cost);
            if (control.on_progress) control.on_progress(1, 1, "simulated");
            return r;
        }
#if PIPELAB_HAVE_CPU_BACKEND
        if (b.name == "cpu") return run_cpu_backend(cfg, plan, control);
#endif
    }
    throw ConfigError("backend", "unknown backend \"" + cfg.backend + "\"");
}

}  // namespace pipelab
