// Fuzz target: PipeLab's own Chrome traces read back. Any JSON either becomes a Timeline
// (then the statistics and the ASCII Gantt must cope with it) or is refused with
// TraceError (or json::exception for a field of the wrong type, which read_chrome_trace
// reports as a malformed trace).
#include "core/report.h"
#include "core/stats.h"
#include "core/trace_io.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto j = pipelab::fuzz::as_json(data, size);
    if (!j) return 0;
    pipelab::Timeline tl;
    try {
        tl = pipelab::timeline_from_chrome_trace(*j);
    } catch (const pipelab::TraceError&) {
        return 0;
    } catch (const nlohmann::json::exception&) {
        return 0;
    }
    const pipelab::Stats st = pipelab::compute_stats(tl);
    (void)pipelab::text_report(st, tl.meta.backend);
    (void)pipelab::ascii_gantt(tl, 40);
    return 0;
}
