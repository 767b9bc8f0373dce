#pragma once
// The one dry run of a schedule (in the manner of PyTorch's _simulate_comms_compute): every
// rank runs its actions in order; an action starts when the rank is free and its
// dependencies (core/deps.h) have ended, plus the transfer time of a message. The same walk
// proves that a schedule finishes (the validator, with zero durations), times it (the
// simulator, with the cost model), and lets a greedy generator choose each next action
// (a policy instead of fixed lists).
//
// A receive starts when the rank reaches it and ends when its message has arrived, so the
// wait shows as the receive's duration. Compute actions of ranks that share a device share
// its throughput: with k such actions running on a device of s slots, each runs at speed
// min(1, s / k) (CPU ranks beyond the cores, several ranks on one GPU).
#include <functional>
#include <optional>
#include <vector>

#include "core/deps.h"
#include "core/schedule.h"

namespace pipelab {

struct WalkTiming {
    // Full-speed time of a compute action (µs); communication actions take none.
    std::function<double(int rank, const Action& a)> duration;
    // Transfer time of a message from `producer` (a send, or in a compute-only list the
    // producing action) on rank src to rank dst. Empty: free.
    std::function<double(const Action& producer, int src, int dst)> transfer;
    // Device sharing: device_of[rank] and each device's slots. Empty: one device per rank.
    std::vector<int> device_of;
    std::vector<double> device_slots;
};

// Told of every action as it starts and ends, in time order (ties in processing order).
class WalkObserver {
public:
    virtual ~WalkObserver() = default;
    virtual void started(int /*rank*/, int /*index*/, const Action& /*a*/, double /*t*/) {}
    virtual void ended(int /*rank*/, int /*index*/, const Action& /*a*/, double /*t*/) {}
};

struct WalkResult {
    std::vector<std::vector<double>> start, end;  // per rank, per action run
    std::vector<std::vector<Action>> order;       // per rank: what ran (the lists, or the policy's picks)
    bool complete = true;
    // Where each rank stopped when not complete (index of its first action not run).
    std::vector<int> stuck_at;
};

// Fixed lists: runs `s` as it is. Never throws on a bad schedule: a circular wait, or a
// dependency placed after its consumer on the same rank, leaves complete == false.
WalkResult walk_schedule(const Schedule& s, const WalkTiming& timing, WalkObserver* observer = nullptr);

// Policy: whenever rank r is free at time t, `next(r, t, ready)` picks its next action
// (or nullopt to wait until something else ends); `ready(a)` says whether a's dependencies
// have ended and arrived by t. `lookup` answers the dependency rules for the schedule being
// built. The walk ends when every rank's policy returns nullopt and nothing runs.
using ReadyFn = std::function<bool(const Action&)>;
using PolicyFn = std::function<std::optional<Action>(int rank, double t, const ReadyFn& ready)>;
WalkResult walk_policy(int n_ranks, int n_microbatches, const DepLookup& lookup, const PolicyFn& next,
                       const WalkTiming& timing, WalkObserver* observer = nullptr);

}  // namespace pipelab
