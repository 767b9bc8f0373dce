#pragma once
// The partition units of core/model.h as real fp32 CPU math: layer 0 the embedding,
// layers 1..L pre-LN transformer blocks, layer L+1 final LayerNorm + LM head + mean
// cross-entropy. A GptLayer holds only its dimensions (no buffers, no hidden state); every
// byte it touches is passed in by the caller, who allocates it from the sizes reported here:
//
//   params   param_count() floats            one per layer, the layout of params(base)
//   grads    param_count() floats            same layout as params, accumulated (+=)
//   acts     activation_bytes()  per microbatch, written by forward, read by I, W and B
//   pending  pending_bytes()     per microbatch, written by I, read by W (the I -> W state)
//   scratch  scratch_bytes()     transient inside I or B; one per rank is enough
//
// Byte buffers hold fp32 and int32 tensors packed back to back with no padding (all 4-byte
// elements): pass memory aligned to at least 4 bytes (new/malloc is). activation_bytes()
// equals Layer::activation_bytes and param_count() equals Layer::params of build_layers().
//
// Backward: backward_input (I) computes dinp from dout and parks in `pending` everything
// backward_weight (W) needs, so W can run any time later and in any microbatch order
// relative to other I's; backward (B) is the one-go llm.c-style backward (= I then W).
// I never touches parameter gradients; W never touches dinp.
//
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// L number of blocks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/gpt_tensors.h"
#include "core/model.h"

namespace pipelab::nn {

// The tensor tables and dims are shared with the cost model and the CUDA stage.
using pipelab::gpt_dims;
using pipelab::GptDims;
using pipelab::TensorView;

// What a forward consumes besides the parameters.
struct LayerInput {
    const float* x = nullptr;      // (B, T, C)  block and head input
    const int* tokens = nullptr;   // (B, T)     embedding input, ids in [0, V)
    const int* targets = nullptr;  // (B, T)     head only, ids in [0, V)
};

class GptLayer {
public:
    GptLayer(LayerKind kind, int index, GptDims dims);
    // Layers 0..L+1 of cfg, in order (kinds as build_layers()).
    static std::vector<GptLayer> build(const ModelConfig& cfg);

    LayerKind kind() const { return kind_; }
    int index() const { return index_; }
    const GptDims& dims() const { return d_; }

    std::int64_t param_count() const;       // floats in params (and in grads)
    std::int64_t activation_bytes() const;  // acts, per microbatch
    std::int64_t pending_bytes() const;     // I -> W state, per microbatch
    std::int64_t scratch_bytes() const;     // transient work space of I and B

    // The tables, carved out of a buffer (also how tests and loaders find tensors by name).
    std::vector<TensorView> params(float* base) const;
    std::vector<TensorView> activations(std::byte* base) const;
    std::vector<TensorView> pending(std::byte* base) const;

    // GPT-2 init, deterministic in (seed, index) on every platform: weights N(0, 0.02),
    // attention and MLP output projections N(0, 0.02 / sqrt(2L)), biases 0, LN weights 1.
    void init_params(float* params, std::uint64_t seed) const;

    // Embedding and block: writes out (B, T, C) and returns 0. Head: out unused (may be
    // nullptr), returns the mean cross-entropy over B*T. Overwrites acts.
    float forward(const float* params, const LayerInput& in, float* out, std::byte* acts) const;
    // I. dout (B, T, C) (ignored by the head: its dloss is 1/(B*T) per position). Writes
    // dinp (B, T, C) (overwrites; ignored by the embedding, may be nullptr there) and
    // overwrites pending. acts are not modified.
    void backward_input(const float* params, const float* dout, const std::byte* acts, std::byte* pending,
                        std::byte* scratch, float* dinp) const;
    // W. grads += parameter gradients, from acts and pending only.
    void backward_weight(float* grads, const std::byte* acts, const std::byte* pending) const;
    // B in one go (fused llm.c ops); uses pending as work space. Same results as I then W.
    void backward(const float* params, float* grads, const float* dout, const std::byte* acts, std::byte* pending,
                  std::byte* scratch, float* dinp) const;

private:
    LayerKind kind_;
    int index_;
    GptDims d_;
};

}  // namespace pipelab::nn
