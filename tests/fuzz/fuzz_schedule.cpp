// Fuzz target: schedule files. Any JSON either loads or is refused with a runtime_error;
// a loaded schedule goes through the validator and the printer, which must cope with
// anything the loader lets through.
#include <stdexcept>

#include "core/schedule.h"
#include "core/validate.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = pipelab::fuzz::as_json(data, size);
    if (!j) return 0;
    pipelab::Schedule s;
    try {
        s = pipelab::schedule_from_json(*j);
    } catch (const std::runtime_error&) {
        return 0;
    }
    if (const auto err = pipelab::validate_schedule(s)) (void)err->what();
    (void)pipelab::format_schedule(s, 0, 0);
    return 0;
}
