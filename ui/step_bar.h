#pragma once
// Step-through for teaching: a slider over the run's actions in time order and a play
// button that reveals them one by one. Emits the number of actions to show (-1 = all).
#include <QWidget>

class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace pipelab::ui {

class StepBar : public QWidget {
    Q_OBJECT
public:
    explicit StepBar(QWidget* parent = nullptr);
    void setActionCount(int n);  // resets to "all shown"
    int shown() const;
    void setShown(int k);
    bool isPlaying() const;
    void setPlaying(bool on);

signals:
    void revealChanged(int count);  // -1 when all are shown

private:
    void onValue(int v);
    QToolButton* m_play;
    QSlider* m_slider;
    QLabel* m_label;
    QTimer* m_timer;
    int m_count = 0;
};

}  // namespace pipelab::ui
