#pragma once
// A measured profile (written by `pipelab-cli profile`): each layer's F, I and W time on a
// real backend for one microbatch shape, its activation and I->W bytes, and the transfer
// cost between ranks fitted as latency + bytes / bandwidth, with the machine, backend,
// model and date it was measured on. The simulator and auto-partition read it instead of
// the FLOP model (apply_profile).
//
// JSON:
// {"format": "pipelab-profile", "version": 1, "machine": "...", "cores": 2, "parallel_slots": 1.8,
//  "backend": "cpu", "date": "2026-12-03T06:00:00Z", "repeats": 8,
//  "model": {...the config's model object...},
//  "layers": [{"name": "embed", "f": {"median_us", "spread_us", "samples"}, "i": {...},
//              "w": {...}, "activation_bytes", "pending_bytes"}, ...],
//  "link": {"latency_us", "bandwidth_bytes_per_us",
//           "samples": [{"bytes", "us"}, ...]}}
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/cost_model.h"
#include "core/model.h"

namespace pipelab {

struct TimeStat {
    double median_us = 0;
    double spread_us = 0;  // half the interquartile range of the samples
    int samples = 0;
};

struct LayerProfile {
    std::string name;
    TimeStat f, i, w;
    std::int64_t activation_bytes = 0;  // Saved: F keeps for the backward
    std::int64_t pending_bytes = 0;     // Pending: I keeps for W
};

struct LinkSample {
    std::int64_t bytes = 0;
    double us = 0;  // one-way time of one message (median)
};

struct LinkProfile {
    double latency_us = 0;
    double bandwidth_bytes_per_us = 0;  // 0 = infinite
    std::vector<LinkSample> samples;
};

struct Profile {
    std::string machine;
    int cores = 1;
    // What `cores` threads at once really deliver, in single-thread speeds (measured: a
    // shared or throttled machine gives less than its cores); 0 = not measured, use cores.
    double parallel_slots = 0;
    std::string backend;  // "cpu", "cuda"
    std::string date;     // ISO 8601 UTC
    int repeats = 0;      // samples per layer and kind
    ModelConfig model;    // includes the microbatch shape (microbatch_size, seq_len)
    std::vector<LayerProfile> layers;
    LinkProfile link;
};

nlohmann::json profile_to_json(const Profile& p);
// Throws ConfigError naming the field ("layers[3].f.median_us") for a malformed profile or
// zero, negative or non-finite times.
Profile profile_from_json(const nlohmann::json& j);
Profile parse_profile(const std::string& text, const std::string& source = "profile");
Profile load_profile(const std::string& path);                 // throws ConfigError
void save_profile(const Profile& p, const std::string& path);  // throws std::runtime_error

// What differs between the profiled model and `model` ("model.vocab: profile 16384,
// config 256; ..."), or nullopt when the profile applies.
std::optional<std::string> profile_mismatch(const Profile& p, const ModelConfig& model);

// `base` (the FLOP model of the same model: parameters, scratch, message bytes) with every
// F/I/W time and the link taken from the profile. On the cpu backend the ranks share one
// device with `parallel_slots` (else `cores`) slots, as the threads share the cores. Throws ConfigError naming
// what differs when the profile is of another model.
CostModel apply_profile(const Profile& p, const ModelConfig& model, const CostModel& base, int n_ranks);

// Median and half-IQR of samples (empty: zeros).
TimeStat time_stat(std::vector<double> samples);
// Least-squares fit of us = latency + bytes / bandwidth (negative parts clamped to 0).
void fit_link(LinkProfile& link);

}  // namespace pipelab
