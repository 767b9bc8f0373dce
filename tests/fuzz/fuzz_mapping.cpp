// Fuzz target: event-mapping files (other frameworks' names). Any JSON either loads or is
// refused with ImportError; a loaded mapping classifies a few names, among them the
// document's own strings, so the patterns meet text they may match.
#include "core/event_mapping.h"
#include "core/kineto_trace.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = pipelab::fuzz::as_json(data, size);
    if (!j) return 0;
    try {
        const pipelab::EventMapping m = pipelab::EventMapping::from_json(*j, "mapping.json");
        for (const char* name : {"PP:1F0", "fwd s0 m3", "iteration 7", "send-x", "Forward 2"}) (void)m.classify(name);
        if (j->is_object())
            for (const auto& [k, v] : j->items()) {
                (void)m.classify(k);
                if (v.is_string()) (void)m.classify(v.get<std::string>());
            }
    } catch (const pipelab::ImportError&) {}
    return 0;
}
