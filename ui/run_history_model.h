#pragma once
// Every run of the session (and every opened trace), newest last. Rows hold a RunPtr
// under RunRole so the compare view and the main window can pick two.
#include <QAbstractTableModel>

#include "ui/run_record.h"

namespace pipelab::ui {

class RunHistoryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Label, StepTime, Bubble, PeakMemory, NUM_COLUMNS };
    enum Roles { RunRole = Qt::UserRole + 1 };

    explicit RunHistoryModel(QObject* parent = nullptr);
    // Assigns the run its number; returns the stored record. The RunOwner overload takes
    // the record over without copying it (a finished run's ~200k events).
    RunPtr add(RunRecord run);
    RunPtr add(RunOwner run);
    RunPtr run(int row) const;
    int count() const { return static_cast<int>(m_runs.size()); }
    void clear();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static double peakMemory(const RunRecord& run) { return ui::peakMemory(run.stats).bytes; }

private:
    std::vector<RunPtr> m_runs;
    int m_next = 1;
};

}  // namespace pipelab::ui
