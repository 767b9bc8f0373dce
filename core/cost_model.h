#pragma once
// Cost model for the simulator: how long each layer's F, I and W take, how much memory
// it holds, and what a boundary message costs. Built from a model's analytic FLOPs and a
// device throughput by default; tests and calibration set the per-layer times directly.
#include <cstdint>
#include <vector>

#include "core/model.h"

namespace pipelab {

struct LayerCost {
    double fwd_us = 0;
    double bwd_input_us = 0;   // I
    double bwd_weight_us = 0;  // W (B = I + W)
    std::int64_t param_bytes = 0;
    std::int64_t activation_bytes = 0;  // saved by F until the backward frees it
    std::int64_t pending_bytes = 0;     // what I keeps for W
    std::int64_t scratch_bytes = 0;     // transient work space of I or B
};

struct LinkCost {
    double latency_us = 0;
    double bandwidth_bytes_per_us = 0;  // 0 = infinite
    double transfer_us(std::int64_t bytes) const {
        const double wire = bandwidth_bytes_per_us > 0 ? bytes / bandwidth_bytes_per_us : 0.0;
        return latency_us + wire;
    }
};

struct CostModel {
    std::vector<LayerCost> layers;
    std::int64_t message_bytes = 0;  // bytes of one activation/gradient crossing a boundary
    LinkCost link;
    int optimizer_copies = 2;  // Adam keeps m and v: two extra fp32 copies
    // A rank's workspace: this plus the largest scratch_bytes among its layers.
    std::int64_t workspace_base_bytes = 0;
    // Ranks sharing a device share its throughput (core/walk.h): rank_device[r] and each
    // device's slots (cores, or 1 for a GPU). Empty: every rank has a device of its own.
    std::vector<int> rank_device;
    std::vector<double> device_slots;
};

struct DeviceSpec {
    double flops_per_s = 100e9;  // single-thread OpenBLAS sgemm measured here ~100 GFLOP/s
    double link_latency_us = 5.0;
    double link_bandwidth_gb_per_s = 10.0;  // 0 = infinite
};

CostModel cost_model_from_flops(const ModelConfig& cfg, const DeviceSpec& dev);

// Every layer costs the same (fwd, I, W); free communication. For formula tests.
CostModel uniform_cost_model(int n_layers, double fwd_us, double bwd_input_us, double bwd_weight_us,
                             std::int64_t activation_bytes = 1);

}  // namespace pipelab
