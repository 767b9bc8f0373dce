#pragma once
// The GPT model's tensors, laid out once for every backend: which named tensors each
// partition unit ("layer", core/model.h) has in each of its buffers, their shapes, sizes
// and offsets. The CPU maths (core/nn), the CUDA stage (gpu/) and the cost model
// (core/model.cpp) all read these tables, so byte counts cannot disagree between what the
// simulator predicts and what a backend allocates.
//
//   params   one per layer                  grads have the same layout
//   acts     per microbatch, written by F   read by I, W and B ("saved" activations)
//   pending  per microbatch, written by I   read by W (the I -> W state)
//   scratch  transient inside I or B        one per rank is enough
//
// A table lists (name, shape, element count, pointer slot, init rule); sizes are summed
// from it and pointers are carved from it. All elements are 4 bytes (fp32 or int32), packed
// with no padding; carving is pointer arithmetic only, so device pointers carve too.
//
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// L number of blocks.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/model.h"

namespace pipelab {

struct GptDims {
    int B = 0, T = 0, C = 0, NH = 0, F = 0, V = 0, L = 0;
};
GptDims gpt_dims(const ModelConfig& cfg);

// One named tensor carved out of a buffer: exactly one of f32 / i32 is set.
struct TensorView {
    const char* name = "";
    const char* shape = "";  // in the letters above, e.g. "(3C, C)"
    std::int64_t count = 0;  // elements (4 bytes each)
    float* f32 = nullptr;
    int* i32 = nullptr;
};

enum class Init { None, Normal, NormalProj, Zeros, Ones };

struct TensorSlot {
    const char* name;
    const char* shape;
    std::int64_t count;
    float** f32 = nullptr;  // exactly one of f32 / i32
    int** i32 = nullptr;
    Init init = Init::None;  // parameters only
};
using TensorTable = std::vector<TensorSlot>;

// ---- the buffers of each layer kind, as structs of pointers --------------------------------

struct EmbedParams {
    float *wte, *wpe;
};
struct EmbedActs {
    int* tokens;
};
struct EmbedPending {
    float* dout;
};

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
struct BlockScratch {
    float *dfch_gelu, *datty, *datt;
};

struct HeadParams {
    float *lnfw, *lnfb, *wlm;
};
struct HeadActs {
    float *inp, *lnf, *lnf_mean, *lnf_rstd, *probs, *losses;
    int* targets;
};
struct HeadPending {
    float *dlogits, *dlnf;
};

TensorTable tensor_table(const GptDims& d, EmbedParams& p);
TensorTable tensor_table(const GptDims& d, EmbedActs& a);
TensorTable tensor_table(const GptDims& d, EmbedPending& p);
TensorTable tensor_table(const GptDims& d, BlockParams& p);
TensorTable tensor_table(const GptDims& d, BlockActs& a);
TensorTable tensor_table(const GptDims& d, BlockPending& p);
TensorTable tensor_table(const GptDims& d, BlockScratch& s);
TensorTable tensor_table(const GptDims& d, HeadParams& p);
TensorTable tensor_table(const GptDims& d, HeadActs& a);
TensorTable tensor_table(const GptDims& d, HeadPending& p);

std::int64_t table_count(const TensorTable& t);
// Points every slot into base, back to back.
void carve_table(const TensorTable& t, const void* base);
std::vector<TensorView> table_views(const TensorTable& t);

// The struct S with its pointers carved out of base (host or device memory).
template <class S>
S carved(const GptDims& d, const void* base) {
    S s{};
    carve_table(tensor_table(d, s), base);
    return s;
}
template <class S>
std::int64_t bytes_of(const GptDims& d) {
    S s{};
    return table_count(tensor_table(d, s)) * 4;
}

// ---- per layer kind -------------------------------------------------------------------------

enum class Buffer { Params, Acts, Pending, Scratch };

// Bytes of one buffer of a layer kind (Params: bytes of the parameters).
std::int64_t layer_bytes(LayerKind kind, Buffer which, const GptDims& d);
// The named tensors of one buffer, carved out of base.
std::vector<TensorView> layer_views(LayerKind kind, Buffer which, const GptDims& d, void* base);
// GPT-2 init, deterministic in (seed, index) on every platform: weights N(0, 0.02),
// attention and MLP output projections N(0, 0.02 / sqrt(2L)), biases 0, LN weights 1.
void init_layer_params(LayerKind kind, int index, const GptDims& d, float* params, std::uint64_t seed);

// The kind of partition unit `layer` (0 embedding, 1..L blocks, L+1 head).
LayerKind layer_kind(int layer, const GptDims& d);

// Where each layer of a chunk (layers [first, end)) keeps its part of one microbatch's
// saved activations and I -> W state: the chunk's Saved and Pending buffers are the
// layers' buffers back to back.
struct ChunkLayout {
    int first = 0, end = 0;
    std::vector<std::int64_t> act_off;   // byte offset of each layer's acts in Saved
    std::vector<std::int64_t> pend_off;  // byte offset of each layer's pending in Pending
    std::int64_t act_bytes = 0, pend_bytes = 0;
    std::int64_t max_scratch_bytes = 0;  // the largest scratch among its layers
};
ChunkLayout chunk_layout(const GptDims& d, int first, int end);

// Bytes a rank keeps as workspace while running any of its layers: two (B, T, C) ping-pong
// activations, tokens and targets (B, T) each, and the largest layer scratch it holds.
std::int64_t stage_workspace_bytes(const GptDims& d, std::int64_t max_layer_scratch_bytes);

}  // namespace pipelab
