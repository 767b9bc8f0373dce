#pragma once
// Shared by the fuzz targets: the libFuzzer entry point's signature, and the bytes as a
// JSON document (nullopt when they are not JSON: every parser gets valid JSON too rarely
// otherwise, and the JSON reader is nlohmann's, fuzzed upstream).
#include <cstddef>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace pipelab::fuzz {

inline std::optional<nlohmann::json> as_json(const std::uint8_t* data, std::size_t size) {
    nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

}  // namespace pipelab::fuzz
