#pragma once
// Chrome Trace Event JSON (opens in Perfetto and chrome://tracing), written and read back.
//   - one process per rank, named "stage N (device)"; thread 0 compute, thread 1 comm;
//   - complete events "ph":"X" with ts/dur in µs, args {kind, chunk, microbatch};
//   - counter events "ph":"C" named "memory" per rank: params/grads/optimizer/activations;
//   - flow events "s"/"f" from each send to its receive;
//   - the run's metadata under the top-level key "pipelab" (ignored by trace viewers).
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/timeline.h"

namespace pipelab {

struct TraceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

nlohmann::json timeline_to_chrome_trace(const Timeline& tl);
// Throws TraceError naming the event index and field that is wrong.
Timeline timeline_from_chrome_trace(const nlohmann::json& trace);

// File helpers. Throw TraceError on I/O or parse errors, naming the path.
void write_chrome_trace(const Timeline& tl, const std::string& path);
Timeline read_chrome_trace(const std::string& path);

}  // namespace pipelab
