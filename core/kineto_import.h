#pragma once
// Opens a real pipeline job: one torch.profiler trace per rank (plain or gzipped, or a
// folder of them) becomes one Timeline of a chosen training step, with the order every
// rank ran, checked by the validator, and the generator it matches, if any.
//
//   - ranks come from each file's distributedInfo; every rank of the world must be given;
//   - steps are ProfilerStep#N (or a mapping's step ranges, or where the actions repeat);
//     the default is the last step every rank completed;
//   - times are ts/dur in µs on each file's baseTimeNanoseconds, then shifted per rank
//     so that no receive ends before its send starts (clock_align.h); the Timeline
//     starts at 0 at the first action of the step on any rank;
//   - see kineto_rank.h for how a rank's actions, transfers and memory are read.
// PipeLab's own traces (top-level "pipelab" key) are read as read_chrome_trace does.
#include <optional>
#include <string>
#include <vector>

#include "core/event_mapping.h"
#include "core/kineto_trace.h"
#include "core/schedule.h"
#include "core/timeline.h"

namespace pipelab {

struct ImportOptions {
    std::optional<long long> step;          // nullopt: the last step every rank completed
    const EventMapping* mapping = nullptr;  // nullptr: PyTorch's names only
    // Set from another thread to stop reading (ImportCancelled); nullptr: not cancellable.
    const std::atomic<bool>* cancel = nullptr;
};

struct ImportResult {
    Timeline timeline;
    std::vector<std::string> notes;      // what was read, inferred, shifted or skipped, one line each
    std::vector<double> clock_shift_us;  // per rank, added to its times
    std::string recognised_schedule;     // a generator's name ("1f1b", ...), "" for an unknown order
    Schedule order;                      // per-rank order with send/recv added; valid
    bool inferred = false;               // the order was inferred from operators
    long long step = 0;                  // the step imported
    std::vector<long long> steps;        // the steps every rank has
    std::vector<std::string> files;      // per rank, the file it came from
};

// Expands folders into their *.json and *.json.gz files (sorted); files stay as given.
// Throws ImportError for a path that does not exist or a folder without traces.
std::vector<std::string> expand_trace_paths(const std::vector<std::string>& paths);

// Reads the files (after expand_trace_paths) and imports them; a JSON file found in a
// folder that is no trace (no "traceEvents") is skipped with a note. Throws ImportError
// with a message naming the file, rank or step at fault.
ImportResult import_trace_files(const std::vector<std::string>& paths, const ImportOptions& opt = {});

// The same from traces already read (tests, fuzzing).
ImportResult import_kineto(const std::vector<KinetoTrace>& traces, const ImportOptions& opt = {});

}  // namespace pipelab
