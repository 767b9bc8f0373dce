#pragma once
// The hand-editing surface of a schedule: one row of action chips per stage, in the
// order the stage runs them. Drag a chip along its row to move it, or use the keys:
// arrows select, Shift+Left/Right swaps the selected action with its neighbour,
// Ctrl+Z / Ctrl+Shift+Z undo and redo. A refused move shows the validator's reason at
// the spot; moved actions carry a marker.
#include <QWidget>

namespace pipelab::ui {

class ScheduleEditModel;

class ScheduleEditView : public QWidget {
    Q_OBJECT
public:
    explicit ScheduleEditView(ScheduleEditModel* model, QWidget* parent = nullptr);

    void select(int rank, int index);
    int selectedRank() const { return m_rank; }
    int selectedIndex() const { return m_index; }
    // The reason shown at the spot for the last refused move (empty after a legal one).
    QString refusal() const { return m_refusal; }
    // Chip geometry in widget pixels, and the chip under a point (-1s when none); public
    // for tests that drag.
    QRect chipRect(int rank, int index) const;
    std::pair<int, int> chipAt(const QPoint& pos) const;
    QSize sizeHint() const override;

signals:
    void selectionChanged(int rank, int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    int gapAt(int rank, int x) const;  // insertion gap 0..n under x on a rank's row
    void tryMove(int rank, int from, int to);
    void onRefused(int rank, int index, const QString& reason);

    ScheduleEditModel* m_model;
    int m_rank = -1, m_index = -1;
    int m_dragRank = -1, m_dragFrom = -1, m_dragGap = -1;
    QPoint m_pressPos;
    QString m_refusal;
    int m_refusalRank = -1, m_refusalIndex = -1;
};

}  // namespace pipelab::ui
