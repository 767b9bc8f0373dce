#pragma once
// Two runs from the history one above the other on one time scale (zoom one, the other
// follows), with the differences in step time, bubble and peak memory.
#include <QWidget>

class QComboBox;
class QLabel;

namespace pipelab::ui {

class RunHistoryModel;
class TimelineChart;

class CompareView : public QWidget {
    Q_OBJECT
public:
    CompareView(RunHistoryModel* history, QWidget* parent = nullptr);
    void setPair(int rowA, int rowB);
    QString diffText() const;
    TimelineChart* chartA() const { return m_a; }
    TimelineChart* chartB() const { return m_b; }

private:
    void update2();
    QComboBox* m_pickA;
    QComboBox* m_pickB;
    QLabel* m_diff;
    TimelineChart* m_a;
    TimelineChart* m_b;
    RunHistoryModel* m_history;
};

}  // namespace pipelab::ui
