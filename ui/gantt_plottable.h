#pragma once
// The Gantt chart's blocks as one QCustomPlot plottable: one row per rank (value = rank),
// key = time in ms. 100k QCPItemRects would be far too slow, so draw() culls each row to
// the visible time range (binary search) and merges runs of sub-pixel blocks into one
// rectangle. Idle time is a hatched band under the blocks: what shows through is the
// bubble. A reveal limit hides actions after the k-th in time order (step-through).
#include <cstdint>
#include <vector>

#include <qcustomplot.h>

#include "core/timeline.h"
#include "ui/time_mapping.h"

namespace pipelab::ui {

class GanttPlottable : public QCPAbstractPlottable {
    Q_OBJECT
public:
    GanttPlottable(QCPAxis* keyAxis, QCPAxis* valueAxis);

    void setTimeline(const Timeline& tl);
    int blockCount() const { return m_blockCount; }
    int rowCount() const { return static_cast<int>(m_rows.size()); }
    double endMs() const { return m_endMs; }

    // Only the first `count` actions in start-time order are drawn (-1 = all).
    void setRevealCount(int count);
    int revealCount() const { return m_reveal; }
    // Start time (ms) of the action that is the k-th in time order (k >= 1).
    double revealTimeMs(int count) const;

    // Index into the timeline's events under a pixel, or -1.
    int eventAt(const QPointF& pixel) const;
    // Blocks drawn by the last draw() (after culling and merging), for the benchmark.
    int lastDrawnRects() const { return m_lastDrawn; }
    TimeMapping mapping() const;
    // A chunk's place among its rank's chunks (0 = first), which picks its shade.
    int chunkSlot(int chunk) const {
        return chunk >= 0 && chunk < static_cast<int>(m_chunkSlot.size()) ? m_chunkSlot[static_cast<std::size_t>(chunk)]
                                                                          : 0;
    }
    void setDarkPalette(bool dark) { m_dark = dark; }
    // Idle as a flat tint instead of the hatch: QSvgGenerator writes pattern brushes as
    // references it never defines, so SVG exports use this.
    void setSolidIdle(bool solid) { m_solidIdle = solid; }

    // QCPAbstractPlottable
    double selectTest(const QPointF& pos, bool onlySelectable, QVariant* details = nullptr) const override;
    QCPRange getKeyRange(bool& foundRange, QCP::SignDomain inSignDomain = QCP::sdBoth) const override;
    QCPRange getValueRange(bool& foundRange, QCP::SignDomain inSignDomain = QCP::sdBoth,
                           const QCPRange& inKeyRange = QCPRange()) const override;

protected:
    void draw(QCPPainter* painter) override;
    void drawLegendIcon(QCPPainter* painter, const QRectF& rect) const override;

private:
    struct Block {
        double start = 0, end = 0;  // ms
        double maxEnd = 0;          // ms, largest end of this block and all before it in the row
        std::int32_t event = 0;     // index into the timeline's events
        std::int32_t order = 0;     // rank in start-time order over all ranks
        ActionKind kind = ActionKind::F;
        std::int32_t microbatch = 0;
        std::int32_t chunk = 0;
    };
    struct Row {
        // By start. Ends may overlap (an opened trace can hold overlapping events on one
        // rank), so the binary search for the first visible block runs on maxEnd, which is
        // non-decreasing by construction.
        std::vector<Block> blocks;
        double first = 0, last = 0;  // span of the row, ms
    };
    void drawRow(QCPPainter* painter, const Row& row, int rank, const TimeMapping& map);
    // First block of the row that may end at or after t: every earlier one ends before t.
    static std::vector<Block>::const_iterator firstEndingAfter(const Row& row, double t);
    QRectF rowRect(int rank, const TimeMapping& map, bool comm) const;

    std::vector<Row> m_rows;
    std::vector<int> m_chunkSlot;      // chunk -> its place on its rank
    std::vector<double> m_orderStart;  // start (ms) of the k-th action in time order
    int m_blockCount = 0;
    int m_reveal = -1;
    int m_lastDrawn = 0;
    int m_chunksPerRank = 1;
    double m_endMs = 0;
    bool m_dark = false;
    bool m_solidIdle = false;
};

}  // namespace pipelab::ui
