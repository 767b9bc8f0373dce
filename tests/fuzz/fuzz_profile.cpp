// Fuzz target: the profile reader. Any JSON either loads (and then applies to a cost model
// of its own model, and is compared with the default model) or is refused with
// ConfigError naming the field.
#include "core/model.h"
#include "core/profile.h"
#include "core/run_config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = pipelab::fuzz::as_json(data, size);
    if (!j) return 0;
    try {
        const pipelab::Profile p = pipelab::profile_from_json(*j);
        (void)pipelab::profile_mismatch(p, pipelab::ModelConfig{});
        if (!pipelab::check_model_size(p.model)) {
            const pipelab::CostModel base = pipelab::cost_model_from_flops(p.model, pipelab::DeviceSpec{});
            const pipelab::CostModel cm = pipelab::apply_profile(p, p.model, base, 2);
            (void)cm;
        }
    } catch (const pipelab::ConfigError&) {}
    return 0;
}
