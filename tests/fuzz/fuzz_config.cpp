// Fuzz target: the experiment config reader. Any JSON either loads (and then names a
// schedule the generators can be asked about) or is refused with ConfigError.
#include "core/run_config.h"
#include "core/schedule_gen.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = pipelab::fuzz::as_json(data, size);
    if (!j) return 0;
    try {
        const pipelab::RunConfig cfg = pipelab::run_config_from_json(*j);
        const auto& p = cfg.pipeline;
        (void)pipelab::check_schedule_spec({p.schedule, p.stages, p.microbatches, p.chunks}, cfg.model.layers + 2);
    } catch (const pipelab::ConfigError&) {}
    return 0;
}
