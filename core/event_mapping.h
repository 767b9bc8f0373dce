#pragma once
// What an event name means to the pipeline importer. PyTorch's names are built in:
//   "PP:1F0", "PP:3I2", "PP:0SEND_F1"  an action of the multi-stage schedules, in the
//                                      schedule IR's text form (the number before the
//                                      kind is the global stage, our chunk);
//   "PP:0UNSHARD", "PP:1WAIT_SEND_F0"  bookkeeping, skipped;
//   "PP:(0F1;3B0)OVERLAP_F_B"          two actions run back to back (DualPipeV);
//   "Forward 3", "Backward 3"          ScheduleGPipe's marks (the rank's own stage);
//   "ProfilerStep#N"                   one training step;
//   "gloo:send", "nccl:recv", ...      a transfer, from posting to completion;
//   "c10d::send", "c10d::recv_"        the operator that posts a transfer;
//   "autograd::engine::evaluate_function: ..."  backward work (order inference).
// Other frameworks (Megatron's NVTX ranges, ...) add rules from a small JSON file:
//   {"framework": "megatron",
//    "actions": [{"pattern": "^forward-compute mb(?<microbatch>\\d+)$", "kind": "F"},
//                {"pattern": "^(?<kind>fwd|bwd) s(?<stage>\\d+) m(?<microbatch>\\d+)$",
//                 "kinds": {"fwd": "F", "bwd": "B"}}],
//    "step": "^train-step (?<step>\\d+)$", "send": "^send-", "recv": "^recv-"}
// Patterns are ECMAScript regular expressions searched in the name; named groups
// (?<name>...) or (?P<name>...) give the microbatch (required), the stage (optional: the
// rank's own stage without it) and the kind (or a fixed "kind"); "step" may name a group
// "step" (else steps are numbered in order). Unknown keys are errors.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/action.h"

namespace pipelab {

enum class NameRole : std::uint8_t {
    None,           // not a pipeline name
    Action,         // an action with its chunk (compute or communication)
    RankAction,     // a compute action on the rank's own stage (chunk filled in later)
    Overlap,        // several actions run back to back in one range (NameMeaning::sub)
    Bookkeeping,    // known but not an action (UNSHARD, RESHARD, REDUCE_GRAD, WAIT_SEND_F, ...)
    UnknownAction,  // "PP:..." that is no action we know; skipped with a note
    Step,           // one training step (NameMeaning::step, -1 = number them in order)
    SendPost,       // the operator that posts a send
    RecvPost,       // the operator that posts a receive
    SendSpan,       // a backend range of a send, from posting to completion
    RecvSpan,       // a backend range of a receive, from posting to the end of the wait
    BackwardOp,     // an autograd engine function: backward work
    Optimizer,      // the optimizer's ranges: not pipeline work
};

struct NameMeaning {
    NameRole role = NameRole::None;
    Action action;            // Action, RankAction (chunk unset)
    std::vector<Action> sub;  // Overlap: the actions in the order they ran
    long long step = -1;      // Step
};

class EventMapping {
public:
    EventMapping();  // PyTorch's names only
    ~EventMapping();
    EventMapping(EventMapping&&) noexcept;
    EventMapping& operator=(EventMapping&&) noexcept;

    // PyTorch's names plus the rules of a mapping document. Throws ImportError naming
    // `source`, the key or rule, and what is wrong (a bad regex, a missing group, ...).
    static EventMapping from_json(const nlohmann::json& j, const std::string& source);
    static EventMapping from_file(const std::string& path);

    const std::string& framework() const { return m_framework; }  // "pytorch" or the file's
    bool has_rules() const;
    NameMeaning classify(std::string_view name) const;

private:
    struct Rules;
    std::string m_framework = "pytorch";
    std::unique_ptr<Rules> m_rules;
};

// The built-in PyTorch reading of one name (what EventMapping falls back to).
NameMeaning classify_pytorch_name(std::string_view name);

}  // namespace pipelab
