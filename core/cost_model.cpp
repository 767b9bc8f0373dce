#include "core/cost_model.h"

#include "core/gpt_tensors.h"

namespace pipelab {

CostModel cost_model_from_flops(const ModelConfig& cfg, const DeviceSpec& dev) {
    CostModel cm;
    const double us_per_flop = 1e6 / dev.flops_per_s;
    for (const Layer& l : build_layers(cfg)) {
        LayerCost c;
        c.fwd_us = l.fwd_flops * us_per_flop;
        c.bwd_input_us = l.bwd_input_flops * us_per_flop;
        c.bwd_weight_us = l.bwd_weight_flops * us_per_flop;
        c.param_bytes = l.params * 4;
        c.activation_bytes = l.activation_bytes;
        c.pending_bytes = l.pending_bytes;
        c.scratch_bytes = l.scratch_bytes;
        cm.layers.push_back(c);
    }
    cm.workspace_base_bytes = stage_workspace_bytes(gpt_dims(cfg), 0);
    cm.message_bytes = boundary_activation_bytes(cfg);
    cm.link.latency_us = dev.link_latency_us;
    // GB/s = 1e9 bytes / 1e6 us = 1e3 bytes per us.
    cm.link.bandwidth_bytes_per_us = dev.link_bandwidth_gb_per_s * 1e3;
    return cm;
}

CostModel uniform_cost_model(int n_layers, double fwd_us, double bwd_input_us, double bwd_weight_us,
                             std::int64_t activation_bytes) {
    CostModel cm;
    cm.layers.assign(static_cast<std::size_t>(n_layers),
                     LayerCost{fwd_us, bwd_input_us, bwd_weight_us, 0, activation_bytes, 0, 0});
    return cm;
}

}  // namespace pipelab
