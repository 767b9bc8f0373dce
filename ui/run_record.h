#pragma once
// One finished run as the app keeps it: what was asked (config, partition, layer costs)
// and what happened (Timeline, Stats). Immutable once delivered; shared by the views and
// the run history.
#include <memory>
#include <vector>

#include <QMetaType>
#include <QString>

#include "core/backend.h"
#include "core/run_config.h"
#include "core/stats.h"
#include "core/timeline.h"

namespace pipelab::ui {

struct RunRecord {
    int number = 0;            // 1, 2, ... in the run history
    QString source;            // "run" or the trace file it was opened from
    bool hasConfig = false;    // false for an opened trace
    RunConfig config;
    std::vector<Layer> layers;
    CostModel cost;
    Partition partition;
    Timeline timeline;
    Stats stats;
    std::vector<double> losses;
    double wallMs = 0;         // how long the backend took, GUI-side clock

    QString label() const;     // "#3 1f1b p4 m8 · sim", "#4 interleaved p4 m8 v2 · sim"
};

using RunPtr = std::shared_ptr<const RunRecord>;

}  // namespace pipelab::ui

Q_DECLARE_METATYPE(pipelab::ui::RunPtr)
