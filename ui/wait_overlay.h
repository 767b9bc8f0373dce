#pragma once
// "Why does this block wait?" drawn over the Gantt chart. For the focused block (hovered,
// clicked, or chosen with the arrow keys) it outlines what the block depended on (its
// previous action on the rank, the producer on the other rank, and the send/receive of
// the transfer) and draws arrows from them; the tooltip sentence is core's
// explain_wait(). It can outline the step's critical path, labels idle stretches by
// cause where they are wide enough to read, and marks actions a schedule edit moved.
// Everything comes from core/why_wait.h, so it works on simulated, measured and
// imported timelines alike.
#include <vector>

#include <qcustomplot.h>

#include "core/timeline.h"
#include "core/why_wait.h"

namespace pipelab::ui {

class TimelineChart;

class WaitOverlay : public QCPLayerable {
    Q_OBJECT
public:
    explicit WaitOverlay(TimelineChart* chart);

    void setTimeline(const Timeline& tl);
    const WaitAnalysis& analysis() const { return m_w; }

    // The block whose dependencies are shown; -1 none. A pinned focus (click, keys)
    // stays while the mouse moves elsewhere.
    void setFocusEvent(int event, bool pinned = true);
    int focusEvent() const { return m_focus; }
    bool focusPinned() const { return m_pinned; }

    enum class ArrowKind { Previous, Producer, Transfer };
    struct Arrow {
        int from = -1, to = -1;  // event indices
        ArrowKind kind = ArrowKind::Previous;
    };
    // Arrows for the focused block (empty without focus), and the blocks they start from.
    std::vector<Arrow> arrows() const;
    std::vector<int> dependencyEvents() const;
    // core's sentence: "1F3 on stage 2 waited 12.4 ms for 1F3 on stage 1 (+0.3 ms transfer)"
    QString explain(int event) const;

    void setCriticalPathShown(bool on);
    bool criticalPathShown() const { return m_showCritical; }
    // The events outlined as the critical path: core's CriticalPath when shown, else none.
    std::vector<int> criticalMarked() const;

    void setIdleLabelsShown(bool on);
    bool idleLabelsShown() const { return m_showIdle; }
    // Labels the last draw placed: "stage 1: warm-up", in rank then time order.
    QStringList drawnIdleLabels() const { return m_drawnLabels; }

    // Actions a schedule edit moved: their blocks get a marker.
    void setMovedActions(const std::vector<Action>& moved);
    std::vector<int> movedEvents() const { return m_moved; }

    // Keyboard: arrows walk the blocks (left/right along a rank, up/down to the block
    // at the same time on the next rank), Escape drops the focus. Returns true if used.
    bool handleKey(int key);

signals:
    void focusChanged(int event);

protected:
    void applyDefaultAntialiasingHint(QCPPainter* painter) const override;
    void draw(QCPPainter* painter) override;
    QRect clipRect() const override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QRectF blockRect(int event) const;  // pixels
    void showTipFor(int event);
    void drawCallout(QCPPainter* p, const QRectF& block, const QString& text);
    void redraw();

    TimelineChart* m_chart;
    const Timeline* m_tl = nullptr;  // the chart's copy
    WaitAnalysis m_w;
    std::vector<std::vector<int>> m_perRank;  // event indices by start, per rank
    int m_focus = -1;
    bool m_pinned = false;
    bool m_showCritical = false;
    bool m_showIdle = true;
    std::vector<int> m_moved;
    std::vector<Action> m_movedActions;
    QStringList m_drawnLabels;
    QPoint m_pressPos;
};

}  // namespace pipelab::ui
