#pragma once
// The one owner of what the charts show: a time range (ms) and a rank range (row
// coordinates, row r spans [r - 0.5, r + 0.5]) with an undo-able zoom stack, and the
// QActions that change them (KDAB hotspot's FilterAndZoomStack). The Gantt and the
// memory plot of a TimelineChart follow one ZoomState; the compare view hands one to
// both of its charts, so they zoom together. Views never keep a range of their own:
// they ask for a change and apply what rangeChanged() says (clamped to the extent).
#include <QElapsedTimer>
#include <QObject>
#include <QVector>

class QAction;

namespace pipelab::ui {

struct ZoomRange {
    double t0 = 0, t1 = 1;       // ms
    double r0 = -0.5, r1 = 0.5;  // row coordinates
    friend bool operator==(const ZoomRange&, const ZoomRange&) = default;
};

class ZoomState : public QObject {
    Q_OBJECT
public:
    explicit ZoomState(QObject* parent = nullptr);

    // What there is to show: a step `endMs` long on `rows` ranks. Clears the zoom stack
    // and fits the view to it.
    void setExtent(double endMs, int rows);
    double endMs() const { return m_endMs; }
    int rows() const { return m_rows; }
    const ZoomRange& range() const { return m_range; }

    // Gestures (wheel, drag): consecutive changes within a moment are one undo step.
    void setTimeRange(double t0, double t1);
    void setRankRange(double r0, double r1);
    // Steps (keys, menus): each is its own undo step. factor < 1 zooms in, about the
    // view's centre; pans move by a fraction of the visible span.
    void zoomTime(double factor);
    void zoomRanks(double factor);
    void panTime(double fraction);
    void panRanks(double fraction);
    void fit();  // the whole step, every rank
    bool canUndo() const { return !m_stack.isEmpty(); }
    void undo();  // back to the view before the last zoom step

    // Keyboard and menu access to every change above; views add them to their menus.
    QAction* zoomInAction() const { return m_zoomIn; }
    QAction* zoomOutAction() const { return m_zoomOut; }
    QAction* panLeftAction() const { return m_panLeft; }
    QAction* panRightAction() const { return m_panRight; }
    QAction* rankZoomInAction() const { return m_rankIn; }
    QAction* rankZoomOutAction() const { return m_rankOut; }
    QAction* rankUpAction() const { return m_rankUp; }
    QAction* rankDownAction() const { return m_rankDown; }
    QAction* fitAction() const { return m_fit; }
    QAction* undoAction() const { return m_undo; }
    QList<QAction*> actions() const;

signals:
    void rangeChanged(const pipelab::ui::ZoomRange& range);
    void canUndoChanged(bool canUndo);

private:
    void change(ZoomRange next, bool gesture);
    ZoomRange clamped(ZoomRange r) const;

    ZoomRange m_range;
    QVector<ZoomRange> m_stack;   // views before each undo step
    QElapsedTimer m_lastGesture;  // invalid when the last change was not a gesture
    double m_endMs = 0;
    int m_rows = 1;
    QAction* m_zoomIn;
    QAction* m_zoomOut;
    QAction* m_panLeft;
    QAction* m_panRight;
    QAction* m_rankIn;
    QAction* m_rankOut;
    QAction* m_rankUp;
    QAction* m_rankDown;
    QAction* m_fit;
    QAction* m_undo;
};

}  // namespace pipelab::ui
