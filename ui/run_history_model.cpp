#include "ui/run_history_model.h"

#include <algorithm>

#include "ui/kind_style.h"

namespace pipelab::ui {

RunHistoryModel::RunHistoryModel(QObject* parent) : QAbstractTableModel(parent) {}

MemoryPeak peakMemory(const Stats& stats) {
    MemoryPeak peak;
    for (const RankStats& r : stats.ranks)
        if (static_cast<double>(r.peak_memory_bytes) > peak.bytes)
            peak = {static_cast<double>(r.peak_memory_bytes), r.rank};
    return peak;
}

RunPtr RunHistoryModel::add(RunRecord run) { return add(std::make_shared<RunRecord>(std::move(run))); }

RunPtr RunHistoryModel::add(RunOwner run) {
    if (!run) return {};
    run->number = m_next++;
    const int row = count();
    beginInsertRows({}, row, row);
    m_runs.push_back(std::move(run));
    endInsertRows();
    return m_runs.back();
}

RunPtr RunHistoryModel::run(int row) const {
    return row >= 0 && row < count() ? m_runs[static_cast<std::size_t>(row)] : RunPtr{};
}

void RunHistoryModel::clear() {
    beginResetModel();
    m_runs.clear();
    endResetModel();
}

int RunHistoryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : count(); }
int RunHistoryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : NUM_COLUMNS; }

QVariant RunHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Label: return tr("run");
    case StepTime: return tr("step");
    case Bubble: return tr("bubble");
    case PeakMemory: return tr("peak mem");
    default: return {};
    }
}

QVariant RunHistoryModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const RunPtr& r = m_runs[static_cast<std::size_t>(index.row())];
    if (role == RunRole) return QVariant::fromValue(r);
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Label: return r->label();
        case StepTime: return formatMs(r->stats.step_time_us);
        case Bubble: return QString::number(100 * r->stats.bubble_fraction, 'f', 1) + QLatin1Char('%');
        case PeakMemory: return formatMiB(peakMemory(*r));
        default: return {};
        }
    }
    if (role == Qt::ToolTipRole) return r->source == QLatin1String("run") ? r->label() : r->source;
    return {};
}

}  // namespace pipelab::ui
