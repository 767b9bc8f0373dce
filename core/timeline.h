#pragma once
// What happened in one training step, whoever ran it (simulator, CPU or CUDA backend):
// every action as a timed event, memory samples per rank, and the run's metadata. Every
// view and exporter reads only a Timeline. Times are microseconds since the step start.
#include <cstdint>
#include <string>
#include <vector>

#include "core/action.h"

namespace pipelab {

struct TimelineEvent {
    std::int32_t rank = 0;
    ActionKind kind = ActionKind::F;
    std::int32_t chunk = 0;
    std::int32_t microbatch = 0;
    double start_us = 0;
    double end_us = 0;
    double duration_us() const { return end_us - start_us; }
    friend bool operator==(const TimelineEvent&, const TimelineEvent&) = default;
};

// Bytes held by one rank at one time, by category.
struct MemorySample {
    std::int32_t rank = 0;
    double time_us = 0;
    std::int64_t params = 0;
    std::int64_t grads = 0;
    std::int64_t optimizer = 0;
    std::int64_t activations = 0;  // live activations and gradients (core/memory_rule.h)
    std::int64_t workspace = 0;    // per-rank transient buffers reused by every action
    std::int64_t messages = 0;     // sent to this rank and not yet received
    std::int64_t total() const { return params + grads + optimizer + activations + workspace + messages; }
    friend bool operator==(const MemorySample&, const MemorySample&) = default;
};

struct RunMeta {
    std::string schedule;              // "1f1b", ...
    std::string backend;               // "sim", "cpu", "cuda"
    int stages = 0;                    // p
    int microbatches = 0;              // m
    int chunks = 1;                    // v, chunks per rank
    std::vector<int> chunk_rank;       // chunk -> rank
    std::vector<int> bounds;           // partition: chunk c = layers [bounds[c], bounds[c+1])
    std::vector<std::string> devices;  // per rank: "sim", "cpu thread", "NVIDIA H100", ...
    std::vector<std::string> notes;    // how the run was obtained (an import's inferences, clock shifts)
    friend bool operator==(const RunMeta&, const RunMeta&) = default;
};

struct Timeline {
    RunMeta meta;
    std::vector<TimelineEvent> events;  // per rank in execution order
    std::vector<MemorySample> memory;   // per rank in time order
    double step_time_us() const;        // last end - first start (0 when empty)
};

}  // namespace pipelab
