#pragma once
// Measuring a profile (core/profile.h) on a real backend. Layer times come from the
// executor itself: the model cut into one chunk per layer, all on one rank, run by the
// config's backend with `repeats` microbatches per step (F of every layer, then I and W of
// every layer from the head down); each action's measured time is one sample. The
// transfer cost is a ping-pong of real device copies between two ranks' threads over a
// few message sizes, fitted as latency + bytes / bandwidth.
#include <vector>

#include "core/device.h"
#include "core/profile.h"
#include "core/run_config.h"
#include "core/run_control.h"

namespace pipelab {

struct ProfileOptions {
    int repeats = 8;       // microbatches per measured step: samples per layer and kind
    int warmup_steps = 1;  // steps run first and thrown away (pools, caches, page faults)
    // Message sizes of the transfer fit (bytes); empty: 4 KiB .. 4x the model's boundary tensor.
    std::vector<std::int64_t> link_sizes;
    int link_round_trips = 40;  // per size
    // cpu: also run one copy per core at once to measure parallel_slots.
    bool measure_slots = true;
};

// The one-rank schedule that times every layer: exposed for tests.
Schedule profiling_schedule(int n_layers, int repeats);

// Runs the layers on cfg.backend (run_backend) and the link fit on `link_device` (a
// device of at least 2 ranks; nullptr leaves the link free). Progress goes to
// control.on_progress; throws RunCancelled, ConfigError (unavailable backend), or what
// the backend throws.
Profile measure_profile(const RunConfig& cfg, const ProfileOptions& opts, RunControl& control, Device* link_device);

// The link fit alone (sizes x round trips between ranks 0 and 1 of `device`).
LinkProfile measure_link(Device& device, const std::vector<std::int64_t>& sizes, int round_trips,
                         const std::atomic<bool>* cancel = nullptr);

// "host (cpu model)" of this machine, and the time now as ISO 8601 UTC.
std::string machine_name();
std::string utc_now();
int usable_cores();  // the cores this process may run on

}  // namespace pipelab
