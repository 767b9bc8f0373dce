#pragma once
// Why a timeline looks the way it does: for every action, what it waited for and how
// long; the critical path of the step; and each idle stretch with its cause. Works on any
// Timeline (simulated, measured, imported), because it reads only the events in each
// rank's order and the dependency rules of core/deps.h.
#include <string>
#include <vector>

#include "core/timeline.h"

namespace pipelab {

struct EventWait {
    int prev = -1;                     // the rank's previous event
    int producer = -1;                 // the other rank's compute action whose output this one waited for
    int send = -1;                     // the send carrying it (lowered timelines)
    int receive = -1;                  // this rank's receive of it (lowered timelines)
    double idle_us = 0;                // since the rank's previous compute ended (time spent waiting)
    double transfer_us = 0;            // of that wait: from the producer's data leaving to it arriving
    bool waited_for_producer = false;  // the producer's data arrived last: it set the start
};

// WarmUp: before the rank's first backward (the pipeline filling); CoolDown: after the
// step's last forward (draining) or after the rank's last compute; in between, Transfer
// when the message took most of the wait, else Imbalance (the producer's rank was late).
enum class IdleCause { WarmUp, CoolDown, Transfer, Imbalance, Other };
const char* to_string(IdleCause c);

struct IdleStretch {
    int rank = 0;
    double start_us = 0, end_us = 0;
    IdleCause cause = IdleCause::Other;
    int waiting_for = -1;  // the producer event, for Transfer and Imbalance
};

struct CriticalPath {
    std::vector<int> events;  // in time order: the chain with no slack that sets the step time
    double compute_us = 0;    // compute actions on the path
    double transfer_us = 0;   // messages on the path, from send to arrival
    double other_us = 0;      // the rest: communication overheads and gaps
};

struct WaitAnalysis {
    std::vector<EventWait> events;  // parallel to Timeline::events
    std::vector<IdleStretch> idle;  // per rank, in time order
    CriticalPath critical;
};

// Never throws on odd input: events it cannot place (no matching action) get no producer.
WaitAnalysis analyse_waits(const Timeline& tl);

// "1F3 on stage 2 waited 12.4 ms for 1F3 on stage 1 (+0.3 ms transfer)", or what the
// event did not wait for ("2F0 on stage 2 started at once").
std::string explain_wait(const Timeline& tl, const WaitAnalysis& w, int event);

}  // namespace pipelab
