#pragma once
// The run's figures: step time, the bubble measured beside the formula with p, m, v
// written out, imbalance, and the per-rank table (utilisation, bubble, peak memory).
#include <QFont>
#include <QWidget>

#include "core/stats.h"

class QLabel;
class QTableView;

namespace pipelab::ui {

class RankStatsModel;
struct RunRecord;

class StatsPanel : public QWidget {
    Q_OBJECT
public:
    explicit StatsPanel(QWidget* parent = nullptr);
    void setRun(const RunRecord* run);  // nullptr clears
    RankStatsModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QString summaryText() const;

    static constexpr int kCompactAbove = 5;  // stages; more get the compact table

private:
    class CompactTranspose;
    QLabel* m_summary;
    QTableView* m_table;
    RankStatsModel* m_model;
    CompactTranspose* m_transposed = nullptr;
    QFont m_normalFont;
};

// "(p-1)/(m+p-1) with p = 4, m = 8: 3/11 = 27.27 %" or "no closed form" text.
QString bubbleFormulaText(const Stats& st);
// Where the step's critical path goes: "62.0 % compute, 8.1 % transfers, 29.9 % waiting
// (gaps and comm overhead)" (shares of the path, which is as long as the step).
QString criticalPathText(const Stats& st);

}  // namespace pipelab::ui
