#pragma once
// The Gantt's rank axis: one label per row, thinned to every step-th row when rows are
// too short for their labels (rankLabelStep), so at p = 64 labels never overlap. The
// chart sets the step from the rows' pixel height before each draw.
#include <algorithm>
#include <cmath>

#include <QStringList>

#include <qcustomplot.h>

namespace pipelab::ui {

class RankTicker : public QCPAxisTicker {
public:
    void setLabels(const QStringList& labels) { m_labels = labels; }
    const QStringList& labels() const { return m_labels; }
    void setStep(int step) { m_step = std::max(step, 1); }
    int step() const { return m_step; }

    void generate(const QCPRange& range, const QLocale&, QChar, int, QVector<double>& ticks, QVector<double>* subTicks,
                  QVector<QString>* tickLabels) override {
        ticks.clear();
        if (subTicks) subTicks->clear();
        if (tickLabels) tickLabels->clear();
        const int first = std::max(0, static_cast<int>(std::ceil(range.lower)));
        const int last = std::min(static_cast<int>(m_labels.size()) - 1, static_cast<int>(std::floor(range.upper)));
        for (int r = (first + m_step - 1) / m_step * m_step; r <= last; r += m_step) {
            ticks.push_back(r);
            if (tickLabels) tickLabels->push_back(m_labels[r]);
        }
    }

private:
    QStringList m_labels;
    int m_step = 1;
};

}  // namespace pipelab::ui
