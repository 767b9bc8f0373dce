#pragma once
// The experiment config (JSON, documented in README.md):
// {"model": {"vocab", "d_model", "heads", "layers", "d_ff", "seq_len", "microbatch_size"},
//  "pipeline": {"stages", "microbatches", "chunks", "schedule", "boundaries", "recompute"},
//  "simulator": {"device_gflops", "link_latency_us", "link_bandwidth_gbps"},
//  "training": {"data", "lr", "weight_decay", "check_finite", "watchdog_s"},
//  "cuda": {"devices", "precision"},
//  "backend": "sim", "steps", "seed"}
// Every field is optional and has a default; unknown fields are errors (typos must not
// pass silently). Errors name the field, the value and the allowed range.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/cost_model.h"
#include "core/model.h"
#include "core/partition.h"
#include "core/schedule.h"
#include "core/schedule_gen.h"

namespace pipelab {

// A config problem: `field` is the dotted path ("pipeline.microbatches").
struct ConfigError : std::runtime_error {
    ConfigError(std::string field_, const std::string& message)
        : std::runtime_error("\"" + field_ + "\": " + message), field(std::move(field_)) {}
    std::string field;
};

struct PipelineConfig {
    ScheduleKind schedule = ScheduleKind::OneFOneB;
    int stages = 4;
    int microbatches = 8;
    int chunks = 1;
    std::vector<int> boundaries;  // interior cuts; empty = balanced by the cost model
    // Activation recomputation: false (none), true (every chunk) or a list of chunks.
    bool recompute_all = false;
    std::vector<int> recompute_chunks;
    // Per chunk of a pipeline with n_chunks chunks: recompute it?
    std::vector<bool> recompute_mask(int n_chunks) const;
};

// Real backends only (cpu, cuda).
struct TrainingConfig {
    std::string data = "synthetic";  // "synthetic" or a text file (byte tokens), relative
                                     // paths resolved against the config file's folder
    double lr = 1e-3;                // AdamW
    double weight_decay = 0.0;
    bool check_finite = false;  // stop at the first NaN/Inf in an activation or gradient
    double watchdog_s = 30.0;   // a receive waiting longer is reported as a stall
};

// The cuda backend only.
struct CudaConfig {
    std::vector<int> devices;        // GPU of each pipeline rank; empty = round-robin over the visible GPUs
    std::string precision = "fp32";  // "fp32", "tf32" (TF32 tensor-core GEMMs), "bf16" (bf16 GEMM
                                     // operands, fp32 accumulation and master weights)
};

struct RunConfig {
    ModelConfig model;
    PipelineConfig pipeline;
    DeviceSpec simulator;
    TrainingConfig training;
    CudaConfig cuda;
    std::string base_dir;  // folder of the config file ("" = current directory)
    std::string backend = "sim";
    int steps = 1;
    std::uint64_t seed = 1234;
};

// Throws ConfigError. `source` names the file in messages about malformed JSON.
RunConfig parse_run_config(const std::string& text, const std::string& source = "config");
RunConfig run_config_from_json(const nlohmann::json& j);
nlohmann::json run_config_to_json(const RunConfig& cfg);
// Same experiment: every field the config file holds, and the folder relative paths
// resolve against (an edit that changes nothing is not an undo step).
bool same_run_config(const RunConfig& a, const RunConfig& b);
RunConfig load_run_config(const std::string& path);  // throws ConfigError; sets base_dir
// The folder of a file path ("" when it has none): relative paths in a config resolve here.
std::string parent_dir(const std::string& path);
// training.data as a path to open (relative paths against base_dir), or "synthetic".
std::string resolve_data_path(const RunConfig& cfg);

// Everything a backend needs, derived from a config: the model's layers, the cost model,
// the partition and the validated schedule.
struct Plan {
    std::vector<Layer> layers;
    CostModel cost;
    Partition partition;
    Schedule schedule;
};

// Throws ConfigError when the pipeline cannot be built (impossible schedule, bad
// boundaries, a schedule the validator rejects).
Plan make_plan(const RunConfig& cfg);

}  // namespace pipelab
