#pragma once
// One rank's trace read as pipeline actions: its steps, and for a chosen step the timed
// compute actions, the transfers, and the memory curve. Times stay in the file's clock
// (µs); the importer (kineto_import.h) moves every rank onto one clock.
//
// How a step is read:
//   - compute actions come from the names (PP:..., Forward i, a mapping file's rules) or,
//     where a schedule marks nothing, are inferred from the operators (kineto_infer.h);
//   - a transfer is a posting operator (c10d::send) merged with the backend's range that
//     starts inside it (gloo:send ... completion); a send is drawn while it is posted
//     (sends do not block the rank), a receive from posting to the end of its wait;
//   - a transfer takes its action from the PP:..SEND/RECV range that posts it, else from
//     its neighbours: a send belongs to the compute action before it (or around it),
//     a receive to the one after it;
//   - a compute range that includes waiting for its input (PyTorch waits inside the
//     action) starts when that receive's wait ends, and one that includes posting its
//     output ends where that send is posted;
//   - with GPU kernels in the trace, an action's time is the device time of the kernels
//     launched inside its CPU range (runtime call -> kernel by correlation id).
#include <optional>
#include <string>
#include <vector>

#include "core/event_mapping.h"
#include "core/kineto_infer.h"
#include "core/kineto_trace.h"

namespace pipelab {

struct StepSpan {
    long long number = 0;
    double start = 0, end = 0;  // file clock; events starting in [start, end) belong to it
};

struct CommOp {
    bool send = false;
    double start = 0;     // posting begins
    double post_end = 0;  // posting returns
    double done = 0;      // completion (receives: the end of the wait)
    std::optional<Action> id;
    bool own_stage = false;  // id's chunk is the rank's own stage
    double strip_end() const { return send ? post_end : done; }
};

struct MemoryPoint {
    double ts = 0;
    std::int64_t bytes = 0;
};

struct RankStep {
    std::vector<TimedAction> compute;  // time order
    std::vector<CommOp> comm;          // time order; those without id could not be placed
    std::vector<MemoryPoint> memory;   // time order
    bool inferred = false;
    bool device_time = false;  // times are the launched kernels' device time
    std::vector<std::string> notes;
};

class RankReader {
public:
    // Classifies every name of the trace once. The trace and mapping must outlive it.
    RankReader(const KinetoTrace& trace, const EventMapping& mapping);

    // ProfilerStep#N spans, a mapping's step ranges, or where the first action repeats;
    // one step covering the whole trace when there is none of these. Time order.
    const std::vector<StepSpan>& steps() const { return m_steps; }
    std::string steps_text() const;                   // "1, 2" or "1-3" for messages
    bool step_marks() const { return m_step_marks; }  // false: steps were guessed
    // Throws ImportError when the step holds actions that cannot be read.
    RankStep read_step(const StepSpan& step) const;

private:
    void find_steps();
    std::vector<TimedAction> annotated_actions(const StepSpan& s, std::vector<std::string>& notes) const;
    std::vector<TimedAction> inferred_actions(const StepSpan& s, std::vector<std::string>& notes) const;
    std::vector<CommOp> comm_ops(const StepSpan& s) const;
    void device_times(RankStep& out) const;

    const KinetoTrace& m_trace;
    std::vector<NameMeaning> m_meaning;  // per interned name
    bool m_annotated = false;            // the trace names its actions
    bool m_step_marks = false;
    std::vector<StepSpan> m_steps;
};

}  // namespace pipelab
