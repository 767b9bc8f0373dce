// The GPT tensor tables (see gpt_tensors.h): one per buffer of each layer kind.
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// L number of blocks.
#include "core/gpt_tensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pipelab {

namespace {
using i64 = std::int64_t;
}  // namespace

GptDims gpt_dims(const ModelConfig& cfg) {
    return {cfg.microbatch_size, cfg.seq_len, cfg.d_model, cfg.heads, cfg.d_ff, cfg.vocab, cfg.layers};
}

i64 table_count(const TensorTable& t) {
    i64 n = 0;
    for (const TensorSlot& s : t) n += s.count;
    return n;
}

void carve_table(const TensorTable& t, const void* base) {
    auto* p = static_cast<std::byte*>(const_cast<void*>(base));
    for (const TensorSlot& s : t) {
        if (s.f32 != nullptr) *s.f32 = reinterpret_cast<float*>(p);
        if (s.i32 != nullptr) *s.i32 = reinterpret_cast<int*>(p);
        p += s.count * 4;
    }
}

std::vector<TensorView> table_views(const TensorTable& t) {
    std::vector<TensorView> v;
    v.reserve(t.size());
    for (const TensorSlot& s : t)
        v.push_back({s.name, s.shape, s.count, s.f32 ? *s.f32 : nullptr, s.i32 ? *s.i32 : nullptr});
    return v;
}

// ---- the tables ----------------------------------------------------------------------------

TensorTable tensor_table(const GptDims& d, EmbedParams& p) {
    return {{"wte", "(V, C)", i64{d.V} * d.C, &p.wte, nullptr, Init::Normal},
            {"wpe", "(T, C)", i64{d.T} * d.C, &p.wpe, nullptr, Init::Normal}};
}
TensorTable tensor_table(const GptDims& d, EmbedActs& a) {
    return {{"tokens", "(B, T)", i64{d.B} * d.T, nullptr, &a.tokens}};
}
TensorTable tensor_table(const GptDims& d, EmbedPending& p) {  // W's dout: the embedding has no I math
    return {{"dout", "(B, T, C)", i64{d.B} * d.T * d.C, &p.dout}};
}

TensorTable tensor_table(const GptDims& d, BlockParams& p) {
    const i64 C = d.C, F = d.F;
    return {{"ln1w", "(C)", C, &p.ln1w, nullptr, Init::Ones},
            {"ln1b", "(C)", C, &p.ln1b, nullptr, Init::Zeros},
            {"qkvw", "(3C, C)", 3 * C * C, &p.qkvw, nullptr, Init::Normal},
            {"qkvb", "(3C)", 3 * C, &p.qkvb, nullptr, Init::Zeros},
            {"attprojw", "(C, C)", C * C, &p.attprojw, nullptr, Init::NormalProj},
            {"attprojb", "(C)", C, &p.attprojb, nullptr, Init::Zeros},
            {"ln2w", "(C)", C, &p.ln2w, nullptr, Init::Ones},
            {"ln2b", "(C)", C, &p.ln2b, nullptr, Init::Zeros},
            {"fcw", "(F, C)", F * C, &p.fcw, nullptr, Init::Normal},
            {"fcb", "(F)", F, &p.fcb, nullptr, Init::Zeros},
            {"fcprojw", "(C, F)", C * F, &p.fcprojw, nullptr, Init::NormalProj},
            {"fcprojb", "(C)", C, &p.fcprojb, nullptr, Init::Zeros}};
}
TensorTable tensor_table(const GptDims& d, BlockActs& a) {
    const i64 BT = i64{d.B} * d.T, C = d.C, F = d.F;
    return {{"inp", "(B, T, C)", BT * C, &a.inp},  // the block's own copy of its input
            {"ln1", "(B, T, C)", BT * C, &a.ln1},
            {"ln1_mean", "(B, T)", BT, &a.ln1_mean},
            {"ln1_rstd", "(B, T)", BT, &a.ln1_rstd},
            {"qkv", "(B, T, 3C)", BT * 3 * C, &a.qkv},
            {"att", "(B, NH, T, T)", i64{d.B} * d.NH * d.T * d.T, &a.att},
            {"atty", "(B, T, C)", BT * C, &a.atty},
            {"res2", "(B, T, C)", BT * C, &a.res2},
            {"ln2", "(B, T, C)", BT * C, &a.ln2},
            {"ln2_mean", "(B, T)", BT, &a.ln2_mean},
            {"ln2_rstd", "(B, T)", BT, &a.ln2_rstd},
            {"fch", "(B, T, F)", BT * F, &a.fch},
            {"fch_gelu", "(B, T, F)", BT * F, &a.fch_gelu}};
}
TensorTable tensor_table(const GptDims& d, BlockPending& p) {
    const i64 BT = i64{d.B} * d.T, C = d.C, F = d.F;
    return {{"dout", "(B, T, C)", BT * C, &p.dout},       // dout of fcproj = the block's dout
            {"dres2", "(B, T, C)", BT * C, &p.dres2},     // dout of attproj
            {"dfch", "(B, T, F)", BT * F, &p.dfch},       // dout of fc
            {"dln2", "(B, T, C)", BT * C, &p.dln2},       // dout of ln2
            {"dqkv", "(B, T, 3C)", BT * 3 * C, &p.dqkv},  // dout of qkv
            {"dln1", "(B, T, C)", BT * C, &p.dln1}};      // dout of ln1
}
TensorTable tensor_table(const GptDims& d, BlockScratch& s) {
    const i64 BT = i64{d.B} * d.T;
    return {{"dfch_gelu", "(B, T, F)", BT * d.F, &s.dfch_gelu},
            {"datty", "(B, T, C)", BT * d.C, &s.datty},
            {"datt", "(T, T)", i64{d.T} * d.T, &s.datt}};
}

TensorTable tensor_table(const GptDims& d, HeadParams& p) {
    return {{"lnfw", "(C)", d.C, &p.lnfw, nullptr, Init::Ones},
            {"lnfb", "(C)", d.C, &p.lnfb, nullptr, Init::Zeros},
            {"wlm", "(V, C)", i64{d.V} * d.C, &p.wlm, nullptr, Init::Normal}};
}
TensorTable tensor_table(const GptDims& d, HeadActs& a) {
    const i64 BT = i64{d.B} * d.T;
    return {{"inp", "(B, T, C)", BT * d.C, &a.inp},
            {"lnf", "(B, T, C)", BT * d.C, &a.lnf},
            {"lnf_mean", "(B, T)", BT, &a.lnf_mean},
            {"lnf_rstd", "(B, T)", BT, &a.lnf_rstd},
            {"probs", "(B, T, V)", BT * d.V, &a.probs},
            {"losses", "(B, T)", BT, &a.losses},  // per position, kept for reporting
            {"targets", "(B, T)", BT, nullptr, &a.targets}};
}
TensorTable tensor_table(const GptDims& d, HeadPending& p) {
    const i64 BT = i64{d.B} * d.T;
    return {{"dlogits", "(B, T, V)", BT * d.V, &p.dlogits}, {"dlnf", "(B, T, C)", BT * d.C, &p.dlnf}};
}

// ---- per layer kind -------------------------------------------------------------------------

namespace {

// Calls f with the table of (kind, which), or with an empty table when the kind has no
// such buffer (only blocks have scratch).
template <class F>
auto with_table(LayerKind kind, Buffer which, const GptDims& d, F f) {
    EmbedParams ep{};
    EmbedActs ea{};
    EmbedPending epd{};
    BlockParams bp{};
    BlockActs ba{};
    BlockPending bpd{};
    BlockScratch bs{};
    HeadParams hp{};
    HeadActs ha{};
    HeadPending hpd{};
    switch (kind) {
    case LayerKind::Embedding:
        switch (which) {
        case Buffer::Params: return f(tensor_table(d, ep));
        case Buffer::Acts: return f(tensor_table(d, ea));
        case Buffer::Pending: return f(tensor_table(d, epd));
        case Buffer::Scratch: break;
        }
        break;
    case LayerKind::Block:
        switch (which) {
        case Buffer::Params: return f(tensor_table(d, bp));
        case Buffer::Acts: return f(tensor_table(d, ba));
        case Buffer::Pending: return f(tensor_table(d, bpd));
        case Buffer::Scratch: return f(tensor_table(d, bs));
        }
        break;
    case LayerKind::Head:
        switch (which) {
        case Buffer::Params: return f(tensor_table(d, hp));
        case Buffer::Acts: return f(tensor_table(d, ha));
        case Buffer::Pending: return f(tensor_table(d, hpd));
        case Buffer::Scratch: break;
        }
        break;
    }
    return f(TensorTable{});
}

// splitmix64 + Box-Muller: the same numbers with every compiler and standard library.
struct Rng {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
};

void fill_normal(float* p, i64 n, double std, Rng& rng) {
    constexpr double kTwoPi = 6.283185307179586476925;
    for (i64 i = 0; i < n; i += 2) {
        const double r = std::sqrt(-2.0 * std::log(rng.uniform()));
        const double theta = kTwoPi * rng.uniform();
        p[i] = static_cast<float>(std * r * std::cos(theta));
        if (i + 1 < n) p[i + 1] = static_cast<float>(std * r * std::sin(theta));
    }
}

}  // namespace

std::int64_t layer_bytes(LayerKind kind, Buffer which, const GptDims& d) {
    return with_table(kind, which, d, [](const TensorTable& t) { return table_count(t) * 4; });
}

std::vector<TensorView> layer_views(LayerKind kind, Buffer which, const GptDims& d, void* base) {
    return with_table(kind, which, d, [base](const TensorTable& t) {
        carve_table(t, base);
        return table_views(t);
    });
}

void init_layer_params(LayerKind kind, int index, const GptDims& d, float* params, std::uint64_t seed) {
    with_table(kind, Buffer::Params, d, [&](const TensorTable& t) {
        carve_table(t, params);
        Rng rng{seed ^ (0xD1B54A32D192ED03ull * static_cast<std::uint64_t>(index + 1))};
        const double std_w = 0.02;
        const double std_proj = 0.02 / std::sqrt(2.0 * std::max(d.L, 1));
        for (const TensorSlot& s : t) {
            float* p = *s.f32;
            switch (s.init) {
            case Init::Normal: fill_normal(p, s.count, std_w, rng); break;
            case Init::NormalProj: fill_normal(p, s.count, std_proj, rng); break;
            case Init::Ones: std::fill(p, p + s.count, 1.0f); break;
            case Init::Zeros:
            case Init::None: std::memset(p, 0, static_cast<std::size_t>(s.count) * sizeof(float)); break;
            }
        }
        return 0;
    });
}

LayerKind layer_kind(int layer, const GptDims& d) {
    if (layer == 0) return LayerKind::Embedding;
    return layer == d.L + 1 ? LayerKind::Head : LayerKind::Block;
}

ChunkLayout chunk_layout(const GptDims& d, int first, int end) {
    ChunkLayout ch;
    ch.first = first;
    ch.end = end;
    for (int l = first; l < end; ++l) {
        const LayerKind k = layer_kind(l, d);
        ch.act_off.push_back(ch.act_bytes);
        ch.pend_off.push_back(ch.pend_bytes);
        ch.act_bytes += layer_bytes(k, Buffer::Acts, d);
        ch.pend_bytes += layer_bytes(k, Buffer::Pending, d);
        ch.max_scratch_bytes = std::max(ch.max_scratch_bytes, layer_bytes(k, Buffer::Scratch, d));
    }
    return ch;
}

std::int64_t stage_workspace_bytes(const GptDims& d, std::int64_t max_layer_scratch_bytes) {
    const i64 btc = i64{d.B} * d.T * d.C, bt = i64{d.B} * d.T;
    return 2 * btc * 4 + 2 * bt * 4 + max_layer_scratch_bytes;
}

}  // namespace pipelab
