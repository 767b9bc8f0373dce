#pragma once
// A small GPT-style decoder described as a list of partition units ("layers"):
//   layer 0        token + position embedding
//   layers 1..L    pre-LN transformer blocks
//   layer L+1      final LayerNorm + LM head + softmax cross-entropy
// Each layer knows its analytic cost per microbatch so the simulator and the partition
// editor can show costs before anything runs.
//
// Letters: B microbatch size, T sequence length, C d_model, H heads, F d_ff, V vocab.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pipelab {

struct ModelConfig {
    int vocab = 256;
    int d_model = 128;
    int heads = 4;
    int layers = 8;  // transformer blocks
    int d_ff = 512;
    int seq_len = 64;
    int microbatch_size = 4;

    // Same architecture and sizes: the same layers with the same analytic costs.
    friend bool operator==(const ModelConfig&, const ModelConfig&) = default;
};

enum class LayerKind { Embedding, Block, Head };

struct Layer {
    LayerKind kind = LayerKind::Block;
    int index = 0;                      // position in the layer list
    std::string name;                   // "embed", "block 3", "head"
    std::int64_t params = 0;            // parameter count (fp32 each)
    double fwd_flops = 0;               // per microbatch
    double bwd_input_flops = 0;         // I: gradient w.r.t. inputs
    double bwd_weight_flops = 0;        // W: gradient w.r.t. weights
    std::int64_t activation_bytes = 0;  // saved by F for the backward, per microbatch
    std::int64_t pending_bytes = 0;     // what I keeps for W, per microbatch
    std::int64_t scratch_bytes = 0;     // transient work space of I or B (per rank, reused)
};

// Why a model is too large for PipeLab to account in 64-bit bytes (more than 1 TiB of
// parameters, or of activations for one microbatch), or nullopt.
std::optional<std::string> check_model_size(const ModelConfig& cfg);

// The partition units of the model, in order (size = cfg.layers + 2).
std::vector<Layer> build_layers(const ModelConfig& cfg);

// Bytes of the tensor that crosses a stage boundary for one microbatch: (B, T, C) fp32.
std::int64_t boundary_activation_bytes(const ModelConfig& cfg);

}  // namespace pipelab
