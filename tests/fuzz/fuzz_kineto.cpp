// Fuzz target: torch.profiler traces. The bytes are one rank's file, streamed through the
// SAX reader; when they read, they are imported alone and, split at the first form feed
// (0x0c) into two files, as ranks of one job. Anything wrong must be an ImportError.
#include <sstream>

#include "core/kineto_import.h"
#include "core/stats.h"
#include "fuzz_input.h"

namespace {
pipelab::KinetoTrace read(const std::string& bytes, const char* name) {
    std::istringstream in(bytes);
    return pipelab::read_kineto_trace(in, name);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const auto ff = bytes.find('\f');
    std::vector<pipelab::KinetoTrace> traces;
    try {
        if (ff == std::string::npos) {
            traces.push_back(read(bytes, "rank.json"));
        } else {
            traces.push_back(read(bytes.substr(0, ff), "rank0.json"));
            traces.push_back(read(bytes.substr(ff + 1), "rank1.json"));
        }
        const pipelab::ImportResult r = pipelab::import_kineto(traces);
        (void)pipelab::compute_stats(r.timeline);
    } catch (const pipelab::ImportError&) {}
    return 0;
}
