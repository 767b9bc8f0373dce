#pragma once
// Which buffers an action allocates and frees: the one memory rule of PipeLab. The
// executor allocates exactly these buffers on its device, the simulator adds up their
// bytes, so a simulated and a measured run of the same schedule draw the same memory.
//
// Per (chunk c, microbatch m) a rank may hold:
//   Act(c)      the activation entering chunk c (the output of chunk c-1), (B, T, C)
//   Grad(c)     the gradient w.r.t. chunk c's output (the input gradient of chunk c+1)
//   Saved(c)    what F keeps for the backward (the layers' saved activations)
//   Pending(c)  what I keeps for W (the douts of every linear and LayerNorm)
//
// F allocates Saved(c) and Act(c+1), then frees Act(c): its input is consumed. With
// recomputation (an R action in the schedule for (c, m)), F keeps Act(c) instead and frees
// Saved(c) at once; R allocates Saved(c) again before the backward and then frees Act(c).
// B allocates Pending(c) and Grad(c-1) and frees Grad(c), Pending(c) and Saved(c); I does
// the same but keeps Pending(c) and Saved(c) for W, which frees them. A SEND frees the
// buffer it sends (the copy belongs to the receiver, in flight until its RECV); a RECV
// allocates it on the receiver. Chunk 0 reads token ids (no Act(0)); the last chunk starts
// its backward from the loss (no Grad(last)).
#include <array>
#include <cstdint>
#include <vector>

#include "core/action.h"

namespace pipelab {

enum class TensorRole : std::uint8_t { Act, Grad, Saved, Pending };

struct TensorRef {
    TensorRole role = TensorRole::Act;
    int chunk = 0;
    friend bool operator==(const TensorRef&, const TensorRef&) = default;
};

struct ActionMemory {
    std::array<TensorRef, 2> alloc{};  // before the action runs, in this order
    std::array<TensorRef, 3> free{};   // after it runs, in this order
    int n_alloc = 0, n_free = 0;
};

// recomputed: the schedule holds an R for (a.chunk, a.microbatch).
ActionMemory action_memory(const Action& a, int n_chunks, bool recomputed);

// Bytes of one microbatch's buffers of a chunk.
struct ChunkSizes {
    std::int64_t saved = 0;     // Saved(c)
    std::int64_t pending = 0;   // Pending(c)
    std::int64_t boundary = 0;  // Act(c) and Grad(c): one (B, T, C) fp32 tensor
};
std::int64_t tensor_bytes(const TensorRef& t, const std::vector<ChunkSizes>& sizes);

// A microbatch is "in flight" on a chunk from its F until the action that frees Saved(c)
// for the last time (B, or W after I).
inline bool opens_microbatch(ActionKind k) { return k == ActionKind::F; }
inline bool closes_microbatch(ActionKind k) { return k == ActionKind::B || k == ActionKind::W; }

}  // namespace pipelab
