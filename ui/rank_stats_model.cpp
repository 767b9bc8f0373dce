#include "ui/rank_stats_model.h"

#include <QColor>

#include "ui/kind_style.h"

namespace pipelab::ui {

RankStatsModel::RankStatsModel(QObject* parent) : QAbstractTableModel(parent) {}

void RankStatsModel::setRun(const Stats& stats, const RunMeta& meta) {
    beginResetModel();
    m_stats = stats;
    m_devices = meta.devices;
    endResetModel();
}

void RankStatsModel::clear() {
    beginResetModel();
    m_stats = Stats{};
    m_devices.clear();
    endResetModel();
}

int RankStatsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_stats.ranks.size());
}

int RankStatsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : NUM_COLUMNS; }

QVariant RankStatsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Vertical) return tr("stage %1").arg(section);
    switch (section) {
    case Rank: return tr("stage");
    case Busy: return tr("busy ms");
    case Idle: return tr("idle ms");
    case Utilisation: return tr("util %");
    case Bubble: return tr("bubble %");
    case SpanBubble: return tr("span %");
    case InFlight: return tr("in flight");
    case PeakActivations: return tr("act MiB");
    case PeakMemory: return tr("peak MiB");
    default: return {};
    }
}

QVariant RankStatsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const RankStats& r = m_stats.ranks[static_cast<std::size_t>(index.row())];
    const double step = m_stats.step_time_us > 0 ? m_stats.step_time_us : 1;
    const double util = r.busy_us / step;
    if (role == SortRole) {
        switch (index.column()) {
        case Rank: return r.rank;
        case Busy: return r.busy_us;
        case Idle: return r.idle_us;
        case Utilisation: return util;
        case Bubble: return r.bubble_fraction;
        case SpanBubble: return r.span_bubble_fraction;
        case InFlight: return r.peak_inflight_microbatches;
        case PeakActivations: return static_cast<qlonglong>(r.peak_activation_bytes);
        case PeakMemory: return static_cast<qlonglong>(r.peak_memory_bytes);
        default: return {};
        }
    }
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Rank: return r.rank;
        case Busy: return QString::number(r.busy_us / 1000.0, 'f', 1);
        case Idle: return QString::number(r.idle_us / 1000.0, 'f', 1);
        case Utilisation: return QString::number(100 * util, 'f', 1);
        case Bubble: return QString::number(100 * r.bubble_fraction, 'f', 1);
        case SpanBubble: return QString::number(100 * r.span_bubble_fraction, 'f', 1);
        case InFlight: return r.peak_inflight_microbatches;
        case PeakActivations:
            return QString::number(static_cast<double>(r.peak_activation_bytes) / (1024.0 * 1024.0), 'f', 1);
        case PeakMemory: return QString::number(static_cast<double>(r.peak_memory_bytes) / (1024.0 * 1024.0), 'f', 1);
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole) return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::DecorationRole && index.column() == Rank) return rankColor(r.rank);
    if (role == Qt::ToolTipRole && index.column() == Rank) {
        const auto i = static_cast<std::size_t>(r.rank);
        return tr("stage %1 on %2")
            .arg(r.rank)
            .arg(i < m_devices.size() ? QString::fromStdString(m_devices[i]) : tr("?"));
    }
    if (role == Qt::ToolTipRole && index.column() == SpanBubble)
        return tr("1 - busy / this rank's own span (first start to last end)");
    if (role == Qt::ToolTipRole && index.column() == Bubble) return tr("idle / step time");
    if (role == Qt::ToolTipRole && index.column() == InFlight)
        return tr("most (chunk, microbatch) activations held at once");
    return {};
}

}  // namespace pipelab::ui
