#pragma once
// The Gantt chart and, under it on the same time axis, the memory plot: one QCustomPlot
// with two axis rects whose left/right margins are aligned by a margin group, so a time
// is at the same x in both. What is shown (time range, rank range) belongs to a
// ZoomState, the chart's own or one shared with other charts: wheel and drag ask it for
// a change (wheel: time; Ctrl+wheel: ranks; Shift+wheel or vertical drag on the Gantt:
// scroll ranks) and the chart applies what it answers.
#include <QPointer>

#include <qcustomplot.h>

#include "core/timeline.h"

namespace pipelab::ui {

class GanttPlottable;
class WaitOverlay;
class RankTicker;
class ZoomState;
struct ZoomRange;

class TimelineChart : public QCustomPlot {
    Q_OBJECT
public:
    // What the memory plot draws per rank. Total: the total (solid) and the resident part
    // (params + grads + optimizer, dashed), so the gap between them is activations.
    enum class MemoryMode { Total, Activations, Params, Grads, Optimizer, NUM_MODES };

    explicit TimelineChart(QWidget* parent = nullptr);

    void setTimeline(const Timeline& tl);
    void clearTimeline();
    const Timeline& timeline() const { return m_timeline; }
    bool hasTimeline() const { return m_hasTimeline; }
    void setMemoryMode(MemoryMode mode);
    MemoryMode memoryMode() const { return m_memoryMode; }
    void setTitle(const QString& title);
    // For the compare view: drop the legends this chart does not need (they take
    // height that two stacked charts cannot spare). One-way.
    void removeLegends(bool kinds, bool memory);
    // Fixed top of the memory axis (MiB) so two charts share a scale; <= 0 = automatic.
    void setMemoryTop(double mib);
    double memoryTop() const { return m_memTop; }
    double memoryDataMax() const { return m_memMax; }
    void setTimeRange(double t0Ms, double t1Ms);  // both rects, through the zoom state
    QCPRange timeRange() const;
    QCPRange rankRange() const;  // row coordinates shown on the Gantt
    void resetZoom();            // fit: the whole step, every rank
    // Share another chart's zoom (the compare view). The chart then no longer sets the
    // extent from its timeline: the owner of the shared state does. nullptr = own.
    void setZoomState(ZoomState* zoom);
    ZoomState* zoomState() const { return m_zoom; }
    // Every how many rows the rank axis is labelled now (1 = every row).
    int rankLabelStep() const;
    void setRevealCount(int count);  // step-through; -1 shows all
    void applyPalette();             // re-read QPalette (light/dark)
    // Idle drawn flat instead of hatched, in the chart and its legend (SVG export).
    void setSolidIdle(bool solid);
    // Replot when shown; a hidden chart (the other tab) has no size to draw into and
    // replots on its first resize anyway.
    void refresh();

    GanttPlottable* gantt() const { return m_gantt; }
    WaitOverlay* waits() const { return m_waits; }  // why-it-waits arrows, critical path, idle causes
    QCPAxisRect* ganttRect() const { return m_ganttRect; }
    QCPAxisRect* memoryRect() const { return m_memRect; }
    // Tooltip text for a pixel (empty when nothing is there); public for tests.
    QString toolTipAt(const QPoint& pos) const;

signals:
    void timeRangeChanged(const QCPRange& range);

protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void changeEvent(QEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

private:
    void rebuildMemory();
    void rebuildRowLabels();
    void onRangeChanged(const QCPRange& requested);
    void onRankRangeChanged(const QCPRange& requested);
    void applyZoom(const ZoomRange& range);
    void updateRankLabelStep();

    Timeline m_timeline;
    bool m_hasTimeline = false;
    MemoryMode m_memoryMode = MemoryMode::Total;
    QCPAxisRect* m_ganttRect = nullptr;
    QCPAxisRect* m_memRect = nullptr;
    GanttPlottable* m_gantt = nullptr;
    WaitOverlay* m_waits = nullptr;
    QCPLegend* m_kindLegend = nullptr;
    QCPLegend* m_memLegend = nullptr;
    QCPTextElement* m_title = nullptr;
    QCPItemStraightLine* m_cursor = nullptr;
    QCPItemRect* m_memMask = nullptr;    // step-through: veils memory after the cursor
    RankTicker* m_rankTicker = nullptr;  // owned by the rank axis
    ZoomState* m_ownZoom = nullptr;
    ZoomState* m_zoom = nullptr;  // m_ownZoom or a shared one
    bool m_syncing = false;
    double m_memTop = 0;  // MiB, <= 0 = automatic
    double m_memMax = 0;  // MiB, largest value drawn
};

}  // namespace pipelab::ui
