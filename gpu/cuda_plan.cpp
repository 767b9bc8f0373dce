#include "gpu/cuda_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/gpt_tensors.h"
#include "core/simulator.h"
#include "gpu/gpt_layer_math.h"
#include "gpu/kernels/reduce_math.h"

namespace pipelab::gpu {

std::optional<Precision> parse_precision(const std::string& name) {
    if (name == "fp32") return Precision::FP32;
    if (name == "tf32") return Precision::TF32;
    if (name == "bf16") return Precision::BF16;
    return std::nullopt;
}

const char* to_string(Precision p) {
    switch (p) {
    case Precision::FP32: return "fp32";
    case Precision::TF32: return "tf32";
    case Precision::BF16: return "bf16";
    }
    return "?";
}

std::vector<int> place_ranks(const std::vector<int>& configured, int n_ranks, int visible_gpus) {
    std::vector<int> out;
    if (configured.empty()) {
        for (int r = 0; r < n_ranks; ++r) out.push_back(visible_gpus > 0 ? r % visible_gpus : 0);
        return out;
    }
    if (static_cast<int>(configured.size()) != n_ranks)
        throw ConfigError("cuda.devices", "needs one GPU per pipeline rank (" + std::to_string(n_ranks) + "), got " +
                                              std::to_string(configured.size()));
    for (std::size_t r = 0; r < configured.size(); ++r) {
        if (configured[r] >= visible_gpus)
            throw ConfigError("cuda.devices[" + std::to_string(r) + "]",
                              "GPU " + std::to_string(configured[r]) + " does not exist (" +
                                  std::to_string(visible_gpus) + " visible: 0.." + std::to_string(visible_gpus - 1) +
                                  ")");
        out.push_back(configured[r]);
    }
    return out;
}

namespace {
constexpr i64 kBlasWorkspace = i64{32} << 20;  // cuBLAS's recommendation for Hopper
constexpr i64 kAlign = 256;
i64 aligned(i64 b) { return (b + kAlign - 1) / kAlign * kAlign; }
}  // namespace

i64 StageLayout::workspace_bytes() const {
    return aligned(2 * boundary_floats * 4) + aligned(data_ints * 4) + aligned(scratch_bytes) +
           aligned(partial_floats * 4) + 2 * aligned(cast_elems * 2) + blas_workspace + kAlign;  // + loss, flag
}

StageLayout stage_layout(const ModelConfig& cfg, const Partition& part, const std::vector<int>& chunks,
                         int microbatches, Precision precision) {
    const GptDims d = gpt_dims(cfg);
    const i64 N = i64{d.B} * d.T;
    StageLayout s;
    s.bf16 = precision == Precision::BF16;
    s.boundary_floats = N * d.C;
    s.blas_workspace = kBlasWorkspace;
    bool data = false;
    i64 cols = 0, cast = 0;
    for (int c : chunks) {
        for (int l = part.first_layer(c); l < part.end_layer(c); ++l) {
            const LayerKind k = layer_kind(l, d);
            s.n_params += layer_bytes(k, Buffer::Params, d) / 4;
            s.scratch_bytes = std::max(s.scratch_bytes, gpu_layer_scratch_bytes(k, d));
            data = data || k != LayerKind::Block;
            if (k == LayerKind::Block) {
                // column reductions: qkv bias (3C), fc bias (F), LayerNorm (2 outputs of C)
                cols = std::max({cols, i64{3} * d.C, i64{d.F}, i64{2} * d.C});
                // largest non-weight GEMM operand: (N, 3C), (N, F), attention's (NH, T, T)
                cast = std::max({cast, N * 3 * d.C, N * d.F, i64{d.NH} * d.T * d.T});
            } else if (k == LayerKind::Head) {
                cols = std::max(cols, i64{2} * d.C);
                cast = std::max({cast, N * d.V, N * d.C});
            }
        }
    }
    s.data_ints = data ? 2 * i64{microbatches} * N : 0;
    s.partial_floats = i64{kMaxColumnSplits} * cols;
    s.cast_elems = s.bf16 ? cast : 0;
    return s;
}

std::vector<RankMemory> estimate_memory(const RunConfig& cfg, const Plan& plan, const std::vector<int>& gpu_of_rank,
                                        Precision precision) {
    const Schedule& s = plan.schedule;
    const Timeline sim = simulate(s, plan.partition, plan.cost);
    std::vector<RankMemory> out(static_cast<std::size_t>(s.n_ranks));
    for (int r = 0; r < s.n_ranks; ++r) {
        std::vector<int> chunks;
        for (int c = 0; c < s.n_chunks(); ++c)
            if (s.rank_of(c) == r) chunks.push_back(c);
        const StageLayout l = stage_layout(cfg.model, plan.partition, chunks, s.n_microbatches, precision);
        RankMemory& m = out[static_cast<std::size_t>(r)];
        m.rank = r;
        m.gpu = gpu_of_rank[static_cast<std::size_t>(r)];
        m.resident = l.param_bytes() + l.grad_bytes() + l.optimizer_bytes() + l.workspace_bytes();
    }
    for (const MemorySample& ms : sim.memory) {
        RankMemory& m = out[static_cast<std::size_t>(ms.rank)];
        m.peak_activations = std::max(m.peak_activations, ms.activations + ms.messages);
    }
    return out;
}

std::string gib(i64 bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
    return buf;
}

std::optional<std::string> check_fits(const std::vector<RankMemory>& ranks, const std::vector<GpuMemory>& gpus) {
    std::map<int, std::vector<const RankMemory*>> by_gpu;
    for (const RankMemory& r : ranks) by_gpu[r.gpu].push_back(&r);
    for (const auto& [g, rs] : by_gpu) {
        i64 need = 0;
        const RankMemory* biggest = rs.front();
        for (const RankMemory* r : rs) {
            need += r->total();
            if (r->total() > biggest->total()) biggest = r;
        }
        const auto it = std::find_if(gpus.begin(), gpus.end(), [g = g](const GpuMemory& m) { return m.gpu == g; });
        const i64 free = it == gpus.end() ? 0 : it->free;
        if (need + kGpuHeadroomBytes <= free) continue;
        std::string msg = "stage " + std::to_string(biggest->rank) + " needs " + gib(biggest->total()) + " on GPU " +
                          std::to_string(g);
        if (rs.size() > 1) msg += " (" + std::to_string(rs.size()) + " ranks share it: " + gib(need) + ")";
        msg += ", " + gib(free) + " free";
        msg +=
            "; the plan does not fit: use more stages or GPUs, a smaller microbatch_size, a schedule that keeps "
            "fewer microbatches in flight (1f1b rather than gpipe), or bf16";
        return msg;
    }
    return std::nullopt;
}

}  // namespace pipelab::gpu
