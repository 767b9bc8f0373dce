// GptLayer: tensor tables, init and the forward / I / W / B of the three layer kinds.
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// L number of blocks.
//
// Each buffer kind (params, acts, pending, scratch) of each layer kind is a struct of
// pointers plus ONE table function listing (name, shape, count, pointer slot, init rule):
// sizes are summed from it and the pointers are carved from it, so they cannot disagree
// (llm.c keeps fill_in_parameter_sizes and malloc_and_point_parameters in step by hand).
#include "core/nn/gpt_layer.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "core/nn/ops.h"

namespace pipelab::nn {

namespace {

using i64 = std::int64_t;

enum class Init { None, Normal, NormalProj, Zeros, Ones };

struct Slot {
    const char* name;
    const char* shape;
    i64 count;
    float** f32 = nullptr;  // exactly one of f32 / i32
    int** i32 = nullptr;
    Init init = Init::None;  // parameters only
};
using Table = std::vector<Slot>;

i64 table_count(const Table& t) {
    i64 n = 0;
    for (const Slot& s : t) n += s.count;
    return n;
}

// Point every slot into base, back to back (all elements are 4 bytes: no padding).
void carve(const Table& t, const void* base) {
    auto* p = static_cast<std::byte*>(const_cast<void*>(base));
    for (const Slot& s : t) {
        if (s.f32 != nullptr) *s.f32 = reinterpret_cast<float*>(p);
        if (s.i32 != nullptr) *s.i32 = reinterpret_cast<int*>(p);
        p += s.count * 4;
    }
}

std::vector<TensorView> views(const Table& t) {
    std::vector<TensorView> v;
    v.reserve(t.size());
    for (const Slot& s : t)
        v.push_back({s.name, s.shape, s.count, s.f32 ? *s.f32 : nullptr, s.i32 ? *s.i32 : nullptr});
    return v;
}

// ---- the tables ----------------------------------------------------------------------------

struct EmbedParams { float *wte, *wpe; };
struct EmbedActs { int* tokens; };
struct EmbedPending { float* dout; };

Table table(const GptDims& d, EmbedParams& p) {
    return {{"wte", "(V, C)", i64{d.V} * d.C, &p.wte, nullptr, Init::Normal},
            {"wpe", "(T, C)", i64{d.T} * d.C, &p.wpe, nullptr, Init::Normal}};
}
Table table(const GptDims& d, EmbedActs& a) {
    return {{"tokens", "(B, T)", i64{d.B} * d.T, nullptr, &a.tokens}};
}
Table table(const GptDims& d, EmbedPending& p) {  // W's dout: the embedding has no I math
    return {{"dout", "(B, T, C)", i64{d.B} * d.T * d.C, &p.dout}};
}

struct BlockParams {
    float *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb;
    float *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb;
};
struct BlockActs {
    float *inp, *ln1, *ln1_mean, *ln1_rstd, *qkv, *att, *atty, *res2;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu;
};
struct BlockPending {  // written by I, read by W: the douts of the linears and LayerNorms
    float *dout, *dres2, *dfch, *dln2, *dqkv, *dln1;
};
struct BlockScratch { float *dfch_gelu, *datty, *datt; };

Table table(const GptDims& d, BlockParams& p) {
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
Table table(const GptDims& d, BlockActs& a) {
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
Table table(const GptDims& d, BlockPending& p) {
    const i64 BT = i64{d.B} * d.T, C = d.C, F = d.F;
    return {{"dout", "(B, T, C)", BT * C, &p.dout},     // dout of fcproj = the block's dout
            {"dres2", "(B, T, C)", BT * C, &p.dres2},   // dout of attproj
            {"dfch", "(B, T, F)", BT * F, &p.dfch},     // dout of fc
            {"dln2", "(B, T, C)", BT * C, &p.dln2},     // dout of ln2
            {"dqkv", "(B, T, 3C)", BT * 3 * C, &p.dqkv},// dout of qkv
            {"dln1", "(B, T, C)", BT * C, &p.dln1}};    // dout of ln1
}
Table table(const GptDims& d, BlockScratch& s) {
    const i64 BT = i64{d.B} * d.T;
    return {{"dfch_gelu", "(B, T, F)", BT * d.F, &s.dfch_gelu},
            {"datty", "(B, T, C)", BT * d.C, &s.datty},
            {"datt", "(T, T)", i64{d.T} * d.T, &s.datt}};
}

struct HeadParams { float *lnfw, *lnfb, *wlm; };
struct HeadActs {
    float *inp, *lnf, *lnf_mean, *lnf_rstd, *probs, *losses;
    int* targets;
};
struct HeadPending { float *dlogits, *dlnf; };

Table table(const GptDims& d, HeadParams& p) {
    return {{"lnfw", "(C)", d.C, &p.lnfw, nullptr, Init::Ones},
            {"lnfb", "(C)", d.C, &p.lnfb, nullptr, Init::Zeros},
            {"wlm", "(V, C)", i64{d.V} * d.C, &p.wlm, nullptr, Init::Normal}};
}
Table table(const GptDims& d, HeadActs& a) {
    const i64 BT = i64{d.B} * d.T;
    return {{"inp", "(B, T, C)", BT * d.C, &a.inp},
            {"lnf", "(B, T, C)", BT * d.C, &a.lnf},
            {"lnf_mean", "(B, T)", BT, &a.lnf_mean},
            {"lnf_rstd", "(B, T)", BT, &a.lnf_rstd},
            {"probs", "(B, T, V)", BT * d.V, &a.probs},
            {"losses", "(B, T)", BT, &a.losses},  // per position, kept for reporting
            {"targets", "(B, T)", BT, nullptr, &a.targets}};
}
Table table(const GptDims& d, HeadPending& p) {
    const i64 BT = i64{d.B} * d.T;
    return {{"dlogits", "(B, T, V)", BT * d.V, &p.dlogits},
            {"dlnf", "(B, T, C)", BT * d.C, &p.dlnf}};
}

template <class S>
S carved(const GptDims& d, const void* base) {
    S s{};
    carve(table(d, s), base);
    return s;
}
template <class S>
i64 bytes_of(const GptDims& d) {
    S s{};
    return table_count(table(d, s)) * 4;
}
template <class S>
std::vector<TensorView> views_of(const GptDims& d, const void* base) {
    S s{};
    const Table t = table(d, s);
    carve(t, base);
    return views(t);
}

void zero(float* p, i64 n) { std::memset(p, 0, static_cast<std::size_t>(n) * sizeof(float)); }

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

// ---- sizes, tables, init -------------------------------------------------------------------

GptDims gpt_dims(const ModelConfig& cfg) {
    return {cfg.microbatch_size, cfg.seq_len, cfg.d_model, cfg.heads,
            cfg.d_ff,            cfg.vocab,   cfg.layers};
}

GptLayer::GptLayer(LayerKind kind, int index, GptDims dims) : kind_(kind), index_(index), d_(dims) {
    assert(d_.NH > 0 && d_.C % d_.NH == 0);
}

std::vector<GptLayer> GptLayer::build(const ModelConfig& cfg) {
    const GptDims d = gpt_dims(cfg);
    std::vector<GptLayer> layers;
    layers.emplace_back(LayerKind::Embedding, 0, d);
    for (int l = 1; l <= d.L; ++l) layers.emplace_back(LayerKind::Block, l, d);
    layers.emplace_back(LayerKind::Head, d.L + 1, d);
    return layers;
}

std::int64_t GptLayer::param_count() const {
    switch (kind_) {
    case LayerKind::Embedding: return bytes_of<EmbedParams>(d_) / 4;
    case LayerKind::Block: return bytes_of<BlockParams>(d_) / 4;
    case LayerKind::Head: return bytes_of<HeadParams>(d_) / 4;
    }
    return 0;
}

std::int64_t GptLayer::activation_bytes() const {
    switch (kind_) {
    case LayerKind::Embedding: return bytes_of<EmbedActs>(d_);
    case LayerKind::Block: return bytes_of<BlockActs>(d_);
    case LayerKind::Head: return bytes_of<HeadActs>(d_);
    }
    return 0;
}

std::int64_t GptLayer::pending_bytes() const {
    switch (kind_) {
    case LayerKind::Embedding: return bytes_of<EmbedPending>(d_);
    case LayerKind::Block: return bytes_of<BlockPending>(d_);
    case LayerKind::Head: return bytes_of<HeadPending>(d_);
    }
    return 0;
}

std::int64_t GptLayer::scratch_bytes() const {
    return kind_ == LayerKind::Block ? bytes_of<BlockScratch>(d_) : 0;
}

std::vector<TensorView> GptLayer::params(float* base) const {
    switch (kind_) {
    case LayerKind::Embedding: return views_of<EmbedParams>(d_, base);
    case LayerKind::Block: return views_of<BlockParams>(d_, base);
    case LayerKind::Head: return views_of<HeadParams>(d_, base);
    }
    return {};
}

std::vector<TensorView> GptLayer::activations(std::byte* base) const {
    switch (kind_) {
    case LayerKind::Embedding: return views_of<EmbedActs>(d_, base);
    case LayerKind::Block: return views_of<BlockActs>(d_, base);
    case LayerKind::Head: return views_of<HeadActs>(d_, base);
    }
    return {};
}

std::vector<TensorView> GptLayer::pending(std::byte* base) const {
    switch (kind_) {
    case LayerKind::Embedding: return views_of<EmbedPending>(d_, base);
    case LayerKind::Block: return views_of<BlockPending>(d_, base);
    case LayerKind::Head: return views_of<HeadPending>(d_, base);
    }
    return {};
}

void GptLayer::init_params(float* params, std::uint64_t seed) const {
    Table t;
    EmbedParams e{};
    BlockParams b{};
    HeadParams h{};
    switch (kind_) {
    case LayerKind::Embedding: t = table(d_, e); break;
    case LayerKind::Block: t = table(d_, b); break;
    case LayerKind::Head: t = table(d_, h); break;
    }
    carve(t, params);
    Rng rng{seed ^ (0xD1B54A32D192ED03ull * static_cast<std::uint64_t>(index_ + 1))};
    const double std_w = 0.02;
    const double std_proj = 0.02 / std::sqrt(2.0 * std::max(d_.L, 1));
    for (const Slot& s : t) {
        float* p = *s.f32;
        switch (s.init) {
        case Init::Normal: fill_normal(p, s.count, std_w, rng); break;
        case Init::NormalProj: fill_normal(p, s.count, std_proj, rng); break;
        case Init::Ones: for (i64 i = 0; i < s.count; ++i) p[i] = 1.0f; break;
        case Init::Zeros:
        case Init::None: zero(p, s.count); break;
        }
    }
}

// ---- forward / I / W / B -------------------------------------------------------------------

namespace {

// Pre-LN block: res2 = x + attproj(attention(qkv(ln1(x)))),
//               out  = res2 + fcproj(gelu(fc(ln2(res2)))).
void block_forward(const GptDims& d, const float* params, const float* x, float* out,
                   std::byte* acts) {
    const int B = d.B, T = d.T, C = d.C, F = d.F, NH = d.NH;
    const i64 BTC = i64{B} * T * C;
    const auto w = carved<BlockParams>(d, params);
    const auto a = carved<BlockActs>(d, acts);
    std::memcpy(a.inp, x, static_cast<std::size_t>(BTC) * sizeof(float));
    layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, a.inp, w.ln1w, w.ln1b, B, T, C);
    matmul_forward(a.qkv, a.ln1, w.qkvw, w.qkvb, B, T, C, 3 * C);
    attention_forward(a.atty, a.att, a.qkv, B, T, C, NH);
    matmul_forward(out, a.atty, w.attprojw, w.attprojb, B, T, C, C);  // out: attproj (B, T, C)
    residual_forward(a.res2, a.inp, out, BTC);
    layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.res2, w.ln2w, w.ln2b, B, T, C);
    matmul_forward(a.fch, a.ln2, w.fcw, w.fcb, B, T, C, F);
    gelu_forward(a.fch_gelu, a.fch, i64{B} * T * F);
    matmul_forward(out, a.fch_gelu, w.fcprojw, w.fcprojb, B, T, F, C);  // out: fcproj
    residual_forward(out, a.res2, out, BTC);
}

// I: every matmul/LayerNorm backward split, input half only; the douts that the weight
// halves need stay in `pending` (BlockPending), the rest in `scratch`.
void block_backward_input(const GptDims& d, const float* params, const float* dout,
                          const std::byte* acts, std::byte* pending, std::byte* scratch,
                          float* dinp) {
    const int B = d.B, T = d.T, C = d.C, F = d.F, NH = d.NH;
    const i64 BTC = i64{B} * T * C;
    const auto w = carved<BlockParams>(d, params);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    const auto s = carved<BlockScratch>(d, scratch);
    zero(reinterpret_cast<float*>(pending), bytes_of<BlockPending>(d) / 4);
    zero(reinterpret_cast<float*>(scratch), bytes_of<BlockScratch>(d) / 4);
    residual_backward(p.dres2, p.dout, dout, BTC);  // p.dout: dout of fcproj, a copy
    matmul_backward_input(s.dfch_gelu, p.dout, w.fcprojw, B, T, F, C);
    gelu_backward(p.dfch, a.fch, s.dfch_gelu, i64{B} * T * F);
    matmul_backward_input(p.dln2, p.dfch, w.fcw, B, T, C, F);
    layernorm_backward_input(p.dres2, p.dln2, a.res2, w.ln2w, a.ln2_mean, a.ln2_rstd, B, T, C);
    // res2 = inp + attproj: d inp = d res2, and d res2 is also attproj's dout
    std::memcpy(dinp, p.dres2, static_cast<std::size_t>(BTC) * sizeof(float));
    matmul_backward_input(s.datty, p.dres2, w.attprojw, B, T, C, C);
    attention_backward(p.dqkv, s.datt, s.datty, a.qkv, a.att, B, T, C, NH);
    matmul_backward_input(p.dln1, p.dqkv, w.qkvw, B, T, C, 3 * C);
    layernorm_backward_input(dinp, p.dln1, a.inp, w.ln1w, a.ln1_mean, a.ln1_rstd, B, T, C);
}

// W: the weight halves, from the saved inputs of each op (acts) and its dout (pending).
void block_backward_weight(const GptDims& d, float* grads, const std::byte* acts,
                           const std::byte* pending) {
    const int B = d.B, T = d.T, C = d.C, F = d.F;
    const auto g = carved<BlockParams>(d, grads);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    matmul_backward_weight(g.fcprojw, g.fcprojb, p.dout, a.fch_gelu, B, T, F, C);
    matmul_backward_weight(g.fcw, g.fcb, p.dfch, a.ln2, B, T, C, F);
    layernorm_backward_weight(g.ln2w, g.ln2b, p.dln2, a.res2, a.ln2_mean, a.ln2_rstd, B, T, C);
    matmul_backward_weight(g.attprojw, g.attprojb, p.dres2, a.atty, B, T, C, C);
    matmul_backward_weight(g.qkvw, g.qkvb, p.dqkv, a.ln1, B, T, C, 3 * C);
    layernorm_backward_weight(g.ln1w, g.ln1b, p.dln1, a.inp, a.ln1_mean, a.ln1_rstd, B, T, C);
}

// B in one go with the fused llm.c ops (matmul_backward, layernorm_backward).
void block_backward(const GptDims& d, const float* params, float* grads, const float* dout,
                    const std::byte* acts, std::byte* pending, std::byte* scratch, float* dinp) {
    const int B = d.B, T = d.T, C = d.C, F = d.F, NH = d.NH;
    const i64 BTC = i64{B} * T * C;
    const auto w = carved<BlockParams>(d, params);
    const auto g = carved<BlockParams>(d, grads);
    const auto a = carved<BlockActs>(d, acts);
    const auto p = carved<BlockPending>(d, pending);
    const auto s = carved<BlockScratch>(d, scratch);
    zero(reinterpret_cast<float*>(pending), bytes_of<BlockPending>(d) / 4);
    zero(reinterpret_cast<float*>(scratch), bytes_of<BlockScratch>(d) / 4);
    residual_backward(p.dres2, p.dout, dout, BTC);
    matmul_backward(s.dfch_gelu, g.fcprojw, g.fcprojb, p.dout, a.fch_gelu, w.fcprojw, B, T, F, C);
    gelu_backward(p.dfch, a.fch, s.dfch_gelu, i64{B} * T * F);
    matmul_backward(p.dln2, g.fcw, g.fcb, p.dfch, a.ln2, w.fcw, B, T, C, F);
    layernorm_backward(p.dres2, g.ln2w, g.ln2b, p.dln2, a.res2, w.ln2w, a.ln2_mean, a.ln2_rstd,
                       B, T, C);
    std::memcpy(dinp, p.dres2, static_cast<std::size_t>(BTC) * sizeof(float));
    matmul_backward(s.datty, g.attprojw, g.attprojb, p.dres2, a.atty, w.attprojw, B, T, C, C);
    attention_backward(p.dqkv, s.datt, s.datty, a.qkv, a.att, B, T, C, NH);
    matmul_backward(p.dln1, g.qkvw, g.qkvb, p.dqkv, a.ln1, w.qkvw, B, T, C, 3 * C);
    layernorm_backward(dinp, g.ln1w, g.ln1b, p.dln1, a.inp, w.ln1w, a.ln1_mean, a.ln1_rstd, B,
                       T, C);
}

}  // namespace

float GptLayer::forward(const float* params, const LayerInput& in, float* out,
                        std::byte* acts) const {
    const i64 BT = i64{d_.B} * d_.T;
    const auto bytes = static_cast<std::size_t>(BT) * 4;
    switch (kind_) {
    case LayerKind::Embedding: {
        const auto w = carved<EmbedParams>(d_, params);
        const auto a = carved<EmbedActs>(d_, acts);
        std::memcpy(a.tokens, in.tokens, bytes);
        encoder_forward(out, a.tokens, w.wte, w.wpe, d_.B, d_.T, d_.C);
        return 0.0f;
    }
    case LayerKind::Block: block_forward(d_, params, in.x, out, acts); return 0.0f;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d_, params);
        const auto a = carved<HeadActs>(d_, acts);
        std::memcpy(a.inp, in.x, bytes * static_cast<std::size_t>(d_.C));
        std::memcpy(a.targets, in.targets, bytes);
        layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, a.inp, w.lnfw, w.lnfb, d_.B, d_.T, d_.C);
        matmul_forward(a.probs, a.lnf, w.wlm, nullptr, d_.B, d_.T, d_.C, d_.V);  // logits
        crossentropy_softmax_forward(a.probs, a.losses, a.probs, a.targets, d_.B, d_.T, d_.V);
        double sum = 0.0;
        for (i64 i = 0; i < BT; ++i) sum += a.losses[i];
        return static_cast<float>(sum / static_cast<double>(BT));
    }
    }
    return 0.0f;
}

void GptLayer::backward_input(const float* params, const float* dout, const std::byte* acts,
                              std::byte* pending, std::byte* scratch, float* dinp) const {
    const i64 BT = i64{d_.B} * d_.T, BTC = BT * d_.C;
    switch (kind_) {
    case LayerKind::Embedding: {  // token ids have no gradient: only park dout for W
        const auto p = carved<EmbedPending>(d_, pending);
        std::memcpy(p.dout, dout, static_cast<std::size_t>(BTC) * sizeof(float));
        return;
    }
    case LayerKind::Block:
        block_backward_input(d_, params, dout, acts, pending, scratch, dinp);
        return;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d_, params);
        const auto a = carved<HeadActs>(d_, acts);
        const auto p = carved<HeadPending>(d_, pending);
        zero(p.dlogits, BT * d_.V);
        zero(p.dlnf, BTC);
        zero(dinp, BTC);
        const float dloss = 1.0f / static_cast<float>(BT);  // mean over B*T
        crossentropy_softmax_backward(p.dlogits, a.probs, a.targets, dloss, d_.B, d_.T, d_.V);
        matmul_backward_input(p.dlnf, p.dlogits, w.wlm, d_.B, d_.T, d_.C, d_.V);
        layernorm_backward_input(dinp, p.dlnf, a.inp, w.lnfw, a.lnf_mean, a.lnf_rstd, d_.B,
                                 d_.T, d_.C);
        return;
    }
    }
}

void GptLayer::backward_weight(float* grads, const std::byte* acts,
                               const std::byte* pending) const {
    switch (kind_) {
    case LayerKind::Embedding: {
        const auto g = carved<EmbedParams>(d_, grads);
        const auto a = carved<EmbedActs>(d_, acts);
        const auto p = carved<EmbedPending>(d_, pending);
        encoder_backward(g.wte, g.wpe, p.dout, a.tokens, d_.B, d_.T, d_.C);
        return;
    }
    case LayerKind::Block: block_backward_weight(d_, grads, acts, pending); return;
    case LayerKind::Head: {
        const auto g = carved<HeadParams>(d_, grads);
        const auto a = carved<HeadActs>(d_, acts);
        const auto p = carved<HeadPending>(d_, pending);
        matmul_backward_weight(g.wlm, nullptr, p.dlogits, a.lnf, d_.B, d_.T, d_.C, d_.V);
        layernorm_backward_weight(g.lnfw, g.lnfb, p.dlnf, a.inp, a.lnf_mean, a.lnf_rstd, d_.B,
                                  d_.T, d_.C);
        return;
    }
    }
}

void GptLayer::backward(const float* params, float* grads, const float* dout,
                        const std::byte* acts, std::byte* pending, std::byte* scratch,
                        float* dinp) const {
    const i64 BT = i64{d_.B} * d_.T, BTC = BT * d_.C;
    switch (kind_) {
    case LayerKind::Embedding: {
        const auto g = carved<EmbedParams>(d_, grads);
        const auto a = carved<EmbedActs>(d_, acts);
        encoder_backward(g.wte, g.wpe, dout, a.tokens, d_.B, d_.T, d_.C);
        return;
    }
    case LayerKind::Block:
        block_backward(d_, params, grads, dout, acts, pending, scratch, dinp);
        return;
    case LayerKind::Head: {
        const auto w = carved<HeadParams>(d_, params);
        const auto g = carved<HeadParams>(d_, grads);
        const auto a = carved<HeadActs>(d_, acts);
        const auto p = carved<HeadPending>(d_, pending);
        zero(p.dlogits, BT * d_.V);
        zero(p.dlnf, BTC);
        zero(dinp, BTC);
        const float dloss = 1.0f / static_cast<float>(BT);
        crossentropy_softmax_backward(p.dlogits, a.probs, a.targets, dloss, d_.B, d_.T, d_.V);
        matmul_backward(p.dlnf, g.wlm, nullptr, p.dlogits, a.lnf, w.wlm, d_.B, d_.T, d_.C, d_.V);
        layernorm_backward(dinp, g.lnfw, g.lnfb, p.dlnf, a.inp, w.lnfw, a.lnf_mean, a.lnf_rstd,
                           d_.B, d_.T, d_.C);
        return;
    }
    }
}

}  // namespace pipelab::nn
