#!/usr/bin/env bash
# Build, check and benchmark the CUDA backend from a clean checkout on a GPU machine that
# has CUDA, CMake, ninja and (optionally) PyTorch, but no Qt, no OpenBLAS and no internet.
# Everything fits in 8 minutes: configure + build (about 3), gpu/ tests with
# `pipelab-cli check --backend cuda` (about 1), bench_cuda (the rest).
#
#   bash tools/gpu_check.sh              run it all; exits 1 when a check FAILs
#   bash tools/gpu_check.sh --prepare    on a developer machine: copy the header-only
#                                        nlohmann/json into .deps/include (git-ignored), to
#                                        carry to the GPU machine with the checkout
#
# nlohmann/json is searched in $PIPELAB_NLOHMANN_INCLUDE, then .deps/include, then the
# system. NCCL in the CUDA toolkit, else in PyTorch's nvidia-nccl wheel. Logs go to
# $OUT (when set) or build-gpu/, one file per phase.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [[ "${1:-}" == "--prepare" ]]; then
    [[ -f /usr/include/nlohmann/json.hpp ]] || { echo "no /usr/include/nlohmann here (apt install nlohmann-json3-dev)"; exit 1; }
    mkdir -p .deps/include && cp -r /usr/include/nlohmann .deps/include/
    echo "copied nlohmann/json into .deps/include; carry .deps with the checkout"
    exit 0
fi

start=$(date +%s)
build=build-gpu
logs=${OUT:-$build}
mkdir -p "$build" "$logs"
elapsed() { echo $(( $(date +%s) - start )); }
summary=()
note() { summary+=("$1"); echo "== $1"; }

args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIPELAB_BUILD_GUI=OFF)
nl=${PIPELAB_NLOHMANN_INCLUDE:-}
[[ -z "$nl" && -f .deps/include/nlohmann/json.hpp ]] && nl=$root/.deps/include
[[ -n "$nl" ]] && args+=(-DPIPELAB_NLOHMANN_INCLUDE="$nl")
if command -v nvidia-smi > /dev/null && nvidia-smi > /dev/null 2>&1; then
    args+=(-DCMAKE_CUDA_ARCHITECTURES=native)   # build for the GPU that is here only
fi
nccl=$(python3 -c "import nvidia.nccl as n; print(list(n.__path__)[0])" 2>/dev/null || true)
[[ -n "$nccl" && -f "$nccl/include/nccl.h" ]] && args+=(-DPIPELAB_NCCL_ROOT="$nccl")
command -v ccache > /dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)

jobs=$(nproc)
if ! timeout 120 cmake "${args[@]}" > "$logs/configure.log" 2>&1; then
    tail -30 "$logs/configure.log"; note "configure FAILED ($(elapsed) s)"; exit 2
fi
grep -E '^\-\-   \[' "$logs/configure.log"
if ! timeout 300 cmake --build "$build" -j "$jobs" --target pipelab-cli tst_gpu_devices bench_cuda \
        > "$logs/build.log" 2>&1; then
    grep -E 'error|FAILED' "$logs/build.log" | head -40; note "build FAILED ($(elapsed) s)"; exit 2
fi
note "built in $(elapsed) s"

# The GPU tests: gpu/devices, and gpu/check, the CUDA backend against the CPU fixtures
# (verbose, so every PASS/FAIL line shows); the host tests of gpu/ need Qt and are CI's.
# Exit 77 = skipped (no GPU).
timeout 240 ctest --test-dir "$build" -R '^gpu/(devices|check)$' -V > "$logs/ctest.log" 2>&1
ctest_rc=$?
grep -E '^[0-9]+: (PASS|FAIL|SKIP|\(one GPU)|[0-9]+ passed|Test +#|tests passed|Skipped' "$logs/ctest.log" | sed 's/^[0-9]*: //'
if grep -q 'SKIP' "$logs/ctest.log" && ! grep -q '^[0-9]*: PASS' "$logs/ctest.log"; then
    note "gpu/ tests skipped: no GPU here ($(elapsed) s)"
elif [[ $ctest_rc -eq 0 ]]; then
    note "gpu/ tests passed ($(elapsed) s)"
else
    note "gpu/ tests FAILED, rc $ctest_rc ($(elapsed) s); see $logs/ctest.log"
fi

left=$(( 470 - $(elapsed) ))
if (( left > 30 )); then
    timeout "$left" "$build/tests/bench/bench_cuda" --steps 3 > "$logs/bench.log" 2>&1
    bench_rc=$?
    cat "$logs/bench.log"
    case $bench_rc in
        0) note "bench_cuda done ($(elapsed) s)";;
        77) note "bench_cuda skipped: no GPU ($(elapsed) s)";;
        124) note "bench_cuda stopped at the time limit ($(elapsed) s)";;
        *) note "bench_cuda failed, rc $bench_rc ($(elapsed) s)";;
    esac
else
    note "bench_cuda not run: no time left"
fi

echo; echo "summary:"; printf '  %s\n' "${summary[@]}"
[[ $ctest_rc -eq 0 ]]
