#pragma once
// The schedule IR: one Action is one step a rank takes. A Schedule (schedule.h) is an
// ordered list of Actions per rank. Generators emit it, the validator checks it, the
// simulator and the executors run it, and users load/save it as JSON.
//
// Text form (round-trips, as in PyTorch's pipelining `_Action`): "<chunk><KIND><mb>",
// e.g. "0F3" = forward of chunk 0 on microbatch 3, "1R3" = its recompute on chunk 1, "2SEND_B5" = send the input gradient
// computed by chunk 2 for microbatch 5 to the rank that holds chunk 1.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pipelab {

enum class ActionKind : std::uint8_t {
    F,       // forward of one chunk on one microbatch
    B,       // full backward (input + weight gradients)
    I,       // backward for inputs only (zero-bubble split)
    W,       // backward for weights only (zero-bubble split)
    R,       // recompute: the forward again, just before the backward (activation
             // recomputation: F kept only the chunk's input)
    SEND_F,  // send chunk c's output activation to the rank holding chunk c+1
    RECV_F,  // receive chunk c's input activation from the rank holding chunk c-1
    SEND_B,  // send the gradient w.r.t. chunk c's input to the rank holding chunk c-1
    RECV_B,  // receive the gradient w.r.t. chunk c's output from the rank holding c+1
    NUM_KINDS
};

inline constexpr int kNumActionKinds = static_cast<int>(ActionKind::NUM_KINDS);

struct Action {
    ActionKind kind = ActionKind::F;
    std::int32_t chunk = 0;
    std::int32_t microbatch = 0;

    friend bool operator==(const Action&, const Action&) = default;
};

std::string_view to_string(ActionKind kind);
std::optional<ActionKind> parse_action_kind(std::string_view text);
std::string to_string(const Action& a);
// Parses "0F3"; returns nullopt on anything else (no exceptions: loaders report errors).
std::optional<Action> parse_action(std::string_view text);

// The other half of a communication action, the one place that pairs them:
// SEND_F(c, m) <-> RECV_F(c+1, m) and SEND_B(c, m) <-> RECV_B(c-1, m).
// Precondition: is_comm(a.kind).
inline Action comm_peer(const Action& a) {
    switch (a.kind) {
    case ActionKind::SEND_F: return {ActionKind::RECV_F, a.chunk + 1, a.microbatch};
    case ActionKind::RECV_F: return {ActionKind::SEND_F, a.chunk - 1, a.microbatch};
    case ActionKind::SEND_B: return {ActionKind::RECV_B, a.chunk - 1, a.microbatch};
    default: return {ActionKind::SEND_B, a.chunk + 1, a.microbatch};  // RECV_B
    }
}

inline bool is_compute(ActionKind k) { return k <= ActionKind::R; }
inline bool is_comm(ActionKind k) { return k >= ActionKind::SEND_F && k < ActionKind::NUM_KINDS; }
inline bool is_backward(ActionKind k) { return k == ActionKind::B || k == ActionKind::I; }

}  // namespace pipelab
