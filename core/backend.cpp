#include "core/backend.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "core/simulator.h"

namespace pipelab {

namespace {

RunResult run_simulator(const RunConfig&, const Plan& plan, RunControl& control) {
    if (control.cancel.load()) throw RunCancelled();
    RunResult r;
    r.timeline = simulate(plan.schedule, plan.partition, plan.cost);
    r.step_times_us.push_back(r.timeline.step_time_us());
    if (control.on_progress) control.on_progress(1, 1, "simulated");
    return r;
}

struct Registry {
    std::mutex mu;
    std::vector<BackendEntry> entries{{"sim", "Simulator", [] { return std::string(); }, run_simulator}};
};

Registry& registry() {
    static Registry r;
    return r;
}

// Backends every build knows by name, with the reason when this program lacks one.
struct KnownBackend {
    const char* name;
    const char* label;
    const char* missing;
};
constexpr KnownBackend kKnown[] = {
    {"sim", "Simulator", "not linked"},
    {"cpu", "CPU threads", "built without OpenBLAS (install libopenblas-dev and rebuild)"},
    {"cuda", "CUDA", "built without CUDA (no nvcc found at configure time)"},
};

}  // namespace

void register_backend(BackendEntry entry) {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    for (BackendEntry& e : r.entries) {
        if (e.name == entry.name) {
            e = std::move(entry);
            return;
        }
    }
    r.entries.push_back(std::move(entry));
}

std::vector<BackendInfo> list_backends() {
    std::vector<BackendEntry> entries;
    {
        Registry& r = registry();
        std::lock_guard lk(r.mu);
        entries = r.entries;
    }
    std::vector<BackendInfo> out;
    const auto add = [&](const BackendEntry& e) {
        const std::string why = e.unavailable ? e.unavailable() : std::string();
        out.push_back({e.name, e.label, why.empty(), why});
    };
    for (const KnownBackend& k : kKnown) {
        const auto it =
            std::find_if(entries.begin(), entries.end(), [&](const BackendEntry& e) { return e.name == k.name; });
        if (it != entries.end())
            add(*it);
        else
            out.push_back({k.name, k.label, false, k.missing});
    }
    for (const BackendEntry& e : entries) {
        const bool known =
            std::any_of(std::begin(kKnown), std::end(kKnown), [&](const KnownBackend& k) { return e.name == k.name; });
        if (!known) add(e);
    }
    return out;
}

RunResult run_training_steps(int steps, RunControl& control,
                             const std::function<StepOutcome(int step, const std::atomic<bool>* cancel)>& step) {
    RunResult result;
    for (int s = 1; s <= steps; ++s) {
        StepOutcome out = step(s, &control.cancel);
        const double us = out.timeline.step_time_us();
        result.losses.push_back(out.loss);
        result.step_times_us.push_back(us);
        result.timeline = std::move(out.timeline);
        if (control.on_progress) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "step %d loss %.6f (%.3f ms)", s, out.loss, us / 1000.0);
            control.on_progress(s, steps, buf);
        }
    }
    return result;
}

RunResult run_backend(const RunConfig& cfg, const Plan& plan, RunControl& control) {
    BackendEntry entry;
    {
        Registry& r = registry();
        std::lock_guard lk(r.mu);
        const auto it = std::find_if(r.entries.begin(), r.entries.end(),
                                     [&](const BackendEntry& e) { return e.name == cfg.backend; });
        if (it != r.entries.end()) entry = *it;
    }
    if (!entry.run) {
        for (const BackendInfo& b : list_backends())
            if (b.name == cfg.backend)
                throw ConfigError("backend", "\"" + b.name + "\" is not available: " + b.why_not);
        throw ConfigError("backend", "unknown backend \"" + cfg.backend + "\"");
    }
    const std::string why = entry.unavailable ? entry.unavailable() : std::string();
    if (!why.empty()) throw ConfigError("backend", "\"" + entry.name + "\" is not available: " + why);
    return entry.run(cfg, plan, control);
}

}  // namespace pipelab
