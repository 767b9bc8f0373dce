#pragma once
// Per-rank figures of one run as a table: busy, idle, utilisation, bubble, in-flight
// microbatches and peak memory. Wraps a core Stats; views read only data(role).
#include <QAbstractTableModel>

#include "core/stats.h"
#include "core/timeline.h"

namespace pipelab::ui {

class RankStatsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // Units sit in the headers so the cells stay narrow enough for a side panel.
    enum Column {
        Rank,
        Busy,
        Idle,
        Utilisation,
        Bubble,
        SpanBubble,
        InFlight,
        PeakActivations,
        PeakMemory,
        NUM_COLUMNS
    };
    enum Roles { SortRole = Qt::UserRole + 1 };  // raw number behind a formatted cell

    explicit RankStatsModel(QObject* parent = nullptr);
    void setRun(const Stats& stats, const RunMeta& meta);
    void clear();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    Stats m_stats;
    std::vector<std::string> m_devices;
};

}  // namespace pipelab::ui
