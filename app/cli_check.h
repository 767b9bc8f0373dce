#pragma once
// `pipelab-cli check`: a backend against the CPU engine's committed fixtures (see
// cli_check.cpp). Returns the process exit code: 0 all PASS, 1 a FAIL, 2 bad usage,
// 77 skipped (no such backend here; CTest's skip code).
namespace pipelab {
int run_check_command(int argc, char** argv);
}
