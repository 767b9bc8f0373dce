#pragma once
// Two runs from the history one above the other on one time scale (zoom one, the other
// follows), with the differences in step time, bubble and peak memory. Built lazily:
// while the tab is hidden a new pair only marks the charts stale.
#include <QWidget>

class QComboBox;
class QLabel;

namespace pipelab::ui {

class RunHistoryModel;
class TimelineChart;
class ZoomState;

class CompareView : public QWidget {
    Q_OBJECT
public:
    CompareView(RunHistoryModel* history, QWidget* parent = nullptr);
    void setPair(int rowA, int rowB);
    QString diffText() const;
    TimelineChart* chartA() const { return m_a; }
    TimelineChart* chartB() const { return m_b; }
    ZoomState* zoomState() const { return m_zoom; }

protected:
    void showEvent(QShowEvent* event) override;

private:
    void update2();  // the pair changed: rebuild now if shown, else when shown
    void rebuild();
    QComboBox* m_pickA;
    QComboBox* m_pickB;
    QLabel* m_diff;
    TimelineChart* m_a;
    TimelineChart* m_b;
    ZoomState* m_zoom;
    RunHistoryModel* m_history;
    bool m_stale = true;  // the charts do not show the picked pair yet
};

}  // namespace pipelab::ui
