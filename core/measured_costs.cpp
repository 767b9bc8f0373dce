#include "core/measured_costs.h"

#include <algorithm>

namespace pipelab {

std::vector<double> layer_step_costs_us(const CostModel& cost) {
    std::vector<double> w;
    w.reserve(cost.layers.size());
    for (const LayerCost& l : cost.layers) w.push_back(l.fwd_us + l.bwd_input_us + l.bwd_weight_us);
    return w;
}

Partition balanced_by_cost(const CostModel& cost, int n_chunks) {
    return balanced_partition(layer_step_costs_us(cost), n_chunks);
}

std::vector<double> measured_layer_costs(const Timeline& tl, const Partition& part, const CostModel& cost) {
    if (cost.layers.empty() || part.n_layers != static_cast<int>(cost.layers.size())) return {};
    std::vector<double> measured(static_cast<std::size_t>(part.n_chunks()), 0.0);
    for (const TimelineEvent& e : tl.events)
        if (is_compute(e.kind) && e.chunk >= 0 && e.chunk < part.n_chunks())
            measured[static_cast<std::size_t>(e.chunk)] += e.duration_us();
    const double m = std::max(1, tl.meta.microbatches);
    const std::vector<double> model = layer_step_costs_us(cost);
    std::vector<double> out(static_cast<std::size_t>(part.n_layers), 0.0);
    for (int c = 0; c < part.n_chunks(); ++c) {
        double chunk_model = 0;
        for (int l = part.first_layer(c); l < part.end_layer(c); ++l) chunk_model += model[static_cast<std::size_t>(l)];
        const double scale = chunk_model > 0 ? measured[static_cast<std::size_t>(c)] / m / chunk_model : 0;
        for (int l = part.first_layer(c); l < part.end_layer(c); ++l)
            out[static_cast<std::size_t>(l)] = scale * model[static_cast<std::size_t>(l)];
    }
    return out;
}

}  // namespace pipelab
