#pragma once
// The Gantt chart and, under it on the same time axis, the memory plot: one QCustomPlot
// with two axis rects whose left/right margins are aligned by a margin group, so a time
// is at the same x in both. Zooming or panning either (wheel / drag, horizontal only)
// moves both: their x ranges are linked.
#include <QPointer>

#include <qcustomplot.h>

#include "core/timeline.h"

namespace pipelab::ui {

class GanttPlottable;
class WaitOverlay;

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
    void setTimeRange(double t0Ms, double t1Ms);  // both rects
    QCPRange timeRange() const;
    void resetZoom();
    // Time (ms) the zoom/pan limits and resetZoom treat as the end of the step; <= 0 =
    // this chart's own step. The compare view sets both charts to the longer step.
    void setViewEnd(double ms) { m_viewEnd = ms; }
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

private:
    void rebuildMemory();
    void rebuildRowLabels();
    void onRangeChanged(const QCPRange& requested);

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
    QCPItemRect* m_memMask = nullptr;  // step-through: veils memory after the cursor
    bool m_syncing = false;
    double m_memTop = 0;  // MiB, <= 0 = automatic
    double m_viewEnd = 0; // ms, <= 0 = own step
    double m_memMax = 0;  // MiB, largest value drawn
};

}  // namespace pipelab::ui
