#pragma once
// One finished run as the app keeps it: what was asked (config, partition, layer costs)
// and what happened (Timeline, Stats). Immutable once delivered; shared by the views and
// the run history.
#include <memory>
#include <optional>
#include <vector>

#include <QMetaType>
#include <QString>
#include <QStringList>

#include "core/backend.h"
#include "core/run_config.h"
#include "core/schedule.h"
#include "core/stats.h"
#include "core/timeline.h"

namespace pipelab::ui {

struct RunRecord {
    int number = 0;          // 1, 2, ... in the run history
    QString source;          // "run" or the trace file it was opened from
    bool hasConfig = false;  // false for an opened trace
    RunConfig config;
    std::vector<Layer> layers;
    CostModel cost;
    Partition partition;
    Timeline timeline;
    Stats stats;
    std::vector<double> losses;
    double wallMs = 0;  // how long the backend took, GUI-side clock
    // An imported job (torch.profiler traces): what the importer noted, and the order
    // every rank ran, which the user can save as a schedule file.
    QStringList importNotes;
    std::optional<Schedule> importedOrder;
    // Where it came from and which steps it holds, so another step can be read.
    QStringList importPaths;
    std::vector<long long> importSteps;
    long long importStep = 0;

    QString label() const;  // "#3 1f1b p4 m8 · sim", "#4 interleaved p4 m8 v2 · sim"
};

// The largest peak memory over a run's ranks (bytes) and the rank that has it (the
// lowest on a tie); {0, 0} without ranks. One definition for the panel and the history.
struct MemoryPeak {
    double bytes = 0;
    int rank = 0;
};
MemoryPeak peakMemory(const Stats& stats);

using RunPtr = std::shared_ptr<const RunRecord>;
// A record not yet shared: the worker hands it to the run history, which moves it in.
using RunOwner = std::shared_ptr<RunRecord>;

}  // namespace pipelab::ui

Q_DECLARE_METATYPE(pipelab::ui::RunPtr)
Q_DECLARE_METATYPE(pipelab::ui::RunOwner)
