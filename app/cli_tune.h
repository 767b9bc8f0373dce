#pragma once
// pipelab-cli's tuning commands: `profile` (measure a profile on a real backend) and
// `partition` (auto-partition by predicted step time). cli_main parses the flags and the
// config; these do the work. Errors: ConfigError (exit 2), std::runtime_error (exit 1).
#include <map>
#include <string>

#include "core/run_config.h"

namespace pipelab {

using CliValues = std::map<std::string, std::string>;

int cli_profile(const RunConfig& cfg, const CliValues& values);
int cli_partition(const RunConfig& cfg, const CliValues& values);

// The plan of `cfg` with every cost from the profile at `path` (checked against the model).
Plan calibrated_plan(const RunConfig& cfg, const std::string& profile_path);

}  // namespace pipelab
