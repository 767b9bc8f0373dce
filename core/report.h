#pragma once
// Text and JSON renderings of a run for terminals and scripts (the CLI's output).
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/stats.h"
#include "core/timeline.h"

namespace pipelab {

// One row per rank, `width` columns spanning the step. A block starts with its kind letter
// and microbatch number ("F3") and continues in lower case ("F3fff"); '.' is idle time.
std::string ascii_gantt(const Timeline& tl, int width = 100);

// Step time, bubble measured beside the formula, imbalance, and a per-rank table.
std::string text_report(const Stats& st, const std::string& backend);

// The --stats-json document: step_time_us, bubble_fraction, bubble_formula, schedule,
// stages, microbatches, chunks, imbalance, ranks[...].
nlohmann::json stats_to_json(const Stats& st);

}  // namespace pipelab
