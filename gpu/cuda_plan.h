#pragma once
// What the CUDA backend decides before it touches a GPU, in plain C++ (no CUDA headers):
// the precision, which GPU each rank runs on, the bytes each rank's stage allocates, and
// whether the plan fits the GPUs' free memory (refused with a message that says what to
// change). The stage sizes its buffers from the same functions, so the estimate is what it
// allocates.
//
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// N = B*T rows.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/run_config.h"

namespace pipelab::gpu {

using i64 = std::int64_t;

enum class Precision { FP32, TF32, BF16 };
std::optional<Precision> parse_precision(const std::string& name);
const char* to_string(Precision p);

// GPU of each rank: the config's cuda.devices when given, else round-robin over the visible
// GPUs. Throws ConfigError("cuda.devices...") naming the entry that does not exist.
std::vector<int> place_ranks(const std::vector<int>& configured, int n_ranks, int visible_gpus);

// The device buffers one rank's CudaStage holds for the whole run.
struct StageLayout {
    i64 n_params = 0;         // floats of parameters (= of gradients, of each Adam moment)
    i64 boundary_floats = 0;  // (B, T, C): each ping-pong buffer
    i64 data_ints = 0;        // tokens and targets of every microbatch of a step (0: no data)
    i64 scratch_bytes = 0;    // the largest layer scratch (attention's datt for all heads)
    i64 partial_floats = 0;   // column-reduction partial sums
    i64 cast_elems = 0;       // each of the two bf16 operand buffers (0 unless bf16)
    i64 blas_workspace = 0;   // handed to cuBLAS so that it allocates nothing itself
    bool bf16 = false;

    i64 param_bytes() const { return n_params * 4 + (bf16 ? n_params * 2 : 0); }  // + the bf16 copy
    i64 grad_bytes() const { return n_params * 4; }
    i64 optimizer_bytes() const { return n_params * 8; }
    i64 workspace_bytes() const;
};
StageLayout stage_layout(const ModelConfig& cfg, const Partition& part, const std::vector<int>& chunks,
                         int microbatches, Precision precision);

// One rank's device memory for the run: resident (params, grads, optimizer, workspace)
// plus its peak of activations and messages, from the simulator, which sums the buffers of
// the executor's memory rule in the schedule's order.
struct RankMemory {
    int rank = 0;
    int gpu = 0;
    i64 resident = 0;
    i64 peak_activations = 0;
    i64 total() const { return resident + peak_activations; }
};
std::vector<RankMemory> estimate_memory(const RunConfig& cfg, const Plan& plan, const std::vector<int>& gpu_of_rank,
                                        Precision precision);

struct GpuMemory {
    int gpu = 0;
    i64 free = 0, total = 0;
};
// Bytes per GPU kept for what the estimate does not count: cuBLAS and NCCL internals,
// fragmentation.
constexpr i64 kGpuHeadroomBytes = i64{512} << 20;

// nullopt when every GPU holds its ranks with the headroom to spare; else the refusal:
//   stage 2 needs 5.3 GiB on GPU 0 (3 ranks share it: 11.8 GiB), 9.1 GiB free; ...
std::optional<std::string> check_fits(const std::vector<RankMemory>& ranks, const std::vector<GpuMemory>& gpus);

std::string gib(i64 bytes);  // "5.3 GiB"

}  // namespace pipelab::gpu
