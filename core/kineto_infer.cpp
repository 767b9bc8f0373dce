#include "core/kineto_infer.h"

#include <algorithm>
#include <cstdio>

namespace pipelab {

namespace {

struct Run {
    bool backward = false;
    double start = 0, end = 0;
    double busy = 0;  // summed operator time: small for input preparation or bookkeeping
};

std::string us(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", x);
    return buf;
}

// Drops the runs of one kind with the least work until `keep` remain.
void drop_smallest(std::vector<Run>& runs, bool backward, std::size_t keep, std::vector<std::string>& notes) {
    for (;;) {
        std::size_t count = 0, smallest = runs.size();
        for (std::size_t i = 0; i < runs.size(); ++i) {
            if (runs[i].backward != backward) continue;
            ++count;
            if (smallest == runs.size() || runs[i].busy < runs[smallest].busy) smallest = i;
        }
        if (count <= keep) return;
        notes.push_back(std::string("dropped a ") + (backward ? "backward" : "forward") + "-like run of " +
                        us(runs[smallest].busy) + " µs (one run per microbatch is kept; the smallest go)");
        runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(smallest));
    }
}

}  // namespace

std::vector<TimedAction> infer_actions(std::vector<OpSpan> ops, std::vector<std::string>& notes) {
    std::sort(ops.begin(), ops.end(), [](const OpSpan& a, const OpSpan& b) { return a.start < b.start; });
    std::vector<Run> runs;
    bool open = false;
    for (const OpSpan& op : ops) {
        if (op.cls == OpSpan::Comm) {
            open = false;
            continue;
        }
        const bool bwd = op.cls == OpSpan::Backward;
        if (open && runs.back().backward == bwd) {
            runs.back().end = std::max(runs.back().end, op.end);
            runs.back().busy += op.end - op.start;
        } else {
            runs.push_back({bwd, op.start, op.end, op.end - op.start});
            open = true;
        }
    }

    // Every rank of a training step ends with a backward and starts with a forward:
    // forward-looking work after the last backward (gradient scaling, loss bookkeeping)
    // and backward work before the first forward are not microbatches.
    const auto last_b = std::find_if(runs.rbegin(), runs.rend(), [](const Run& r) { return r.backward; });
    if (last_b != runs.rend()) {
        const auto tail = last_b.base();  // first run after the last backward
        if (tail != runs.end())
            notes.push_back("ignored operators after the last backward (" + std::to_string(runs.end() - tail) +
                            " run(s): gradient scaling and the like)");
        runs.erase(tail, runs.end());
    }
    // A training step has backward work; without it there is no pipeline step to read.
    if (last_b == runs.rend()) return {};
    const auto first_f = std::find_if(runs.begin(), runs.end(), [](const Run& r) { return !r.backward; });
    if (first_f == runs.end()) return {};
    if (first_f != runs.begin()) {
        notes.push_back("ignored backward work before the first forward");
        runs.erase(runs.begin(), first_f);
    }

    std::size_t n_f = 0, n_b = 0;
    for (const Run& r : runs) (r.backward ? n_b : n_f)++;
    if (n_f > n_b) drop_smallest(runs, false, n_b, notes);
    if (n_b > n_f) drop_smallest(runs, true, n_f, notes);

    std::vector<TimedAction> out;
    int next_f = 0, next_b = 0;
    for (const Run& r : runs) {
        TimedAction a;
        a.action = {r.backward ? ActionKind::B : ActionKind::F, 0, r.backward ? next_b++ : next_f++};
        a.own_stage = true;
        a.start = a.cpu_start = r.start;
        a.end = a.cpu_end = r.end;
        out.push_back(a);
    }
    return out;
}

}  // namespace pipelab
