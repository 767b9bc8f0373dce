#include "ui/gantt_plottable.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

#include "core/schedule.h"
#include "ui/kind_style.h"

namespace pipelab::ui {

namespace {
constexpr double kRowHalf = 0.4;  // block half-height in row units
// Blocks narrower than this merge into per-row runs: below ~2 px a block shows neither
// its number nor its edges, and drawing each one alone made a 100k-block step slow.
constexpr double kMergePx = 2.0;
constexpr double kCommFrac = 0.3;  // comm actions fill the bottom 30% so the bubble stays visible
}  // namespace

GanttPlottable::GanttPlottable(QCPAxis* keyAxis, QCPAxis* valueAxis) : QCPAbstractPlottable(keyAxis, valueAxis) {
    setAntialiasedFill(false);
    setAntialiased(false);
}

void GanttPlottable::setTimeline(const Timeline& tl) {
    const int p = std::max(tl.meta.stages, 1);
    int maxRank = p - 1;
    for (const TimelineEvent& e : tl.events) maxRank = std::max(maxRank, static_cast<int>(e.rank));
    m_rows.assign(static_cast<std::size_t>(maxRank + 1), Row{});
    m_chunksPerRank = std::max(tl.meta.chunks, 1);
    // Shade by the chunk's place on its rank, from the run's chunk -> rank map (a
    // V-shaped schedule puts chunk c >= p on rank 2p-1-c, not c % p); round-robin only
    // when the run does not say.
    if (!tl.meta.chunk_rank.empty()) {
        m_chunkSlot = chunk_slots(tl.meta.chunk_rank);
    } else {
        m_chunkSlot.resize(static_cast<std::size_t>(p * m_chunksPerRank));
        for (std::size_t c = 0; c < m_chunkSlot.size(); ++c) m_chunkSlot[c] = static_cast<int>(c) / p;
    }
    m_blockCount = static_cast<int>(tl.events.size());
    m_endMs = tl.step_time_us() / 1000.0;

    // Order of every action by start time (ties by rank), for the step-through.
    std::vector<std::int32_t> byStart(tl.events.size());
    std::iota(byStart.begin(), byStart.end(), 0);
    std::stable_sort(byStart.begin(), byStart.end(), [&](std::int32_t a, std::int32_t b) {
        const auto& ea = tl.events[static_cast<std::size_t>(a)];
        const auto& eb = tl.events[static_cast<std::size_t>(b)];
        return ea.start_us < eb.start_us || (ea.start_us == eb.start_us && ea.rank < eb.rank);
    });
    std::vector<std::int32_t> order(tl.events.size());
    m_orderStart.resize(tl.events.size());
    for (std::size_t k = 0; k < byStart.size(); ++k) {
        order[static_cast<std::size_t>(byStart[k])] = static_cast<std::int32_t>(k);
        m_orderStart[k] = tl.events[static_cast<std::size_t>(byStart[k])].start_us / 1000.0;
    }
    for (std::size_t i = 0; i < tl.events.size(); ++i) {
        const TimelineEvent& e = tl.events[i];
        Row& row = m_rows[static_cast<std::size_t>(e.rank)];
        row.blocks.push_back({e.start_us / 1000.0, e.end_us / 1000.0, 0.0, static_cast<std::int32_t>(i), order[i],
                              e.kind, e.microbatch, e.chunk});
    }
    for (Row& row : m_rows) {
        std::stable_sort(row.blocks.begin(), row.blocks.end(),
                         [](const Block& a, const Block& b) { return a.start < b.start; });
        // Running maximum of the ends: monotone even where events overlap, so a binary
        // search on it is valid (a search on `end` itself would skip a long block that
        // a shorter, later-starting one overlaps).
        double runningEnd = row.blocks.empty() ? 0 : row.blocks.front().end;
        for (Block& b : row.blocks) {
            runningEnd = std::max(runningEnd, b.end);
            b.maxEnd = runningEnd;
        }
        row.first = row.blocks.empty() ? 0 : row.blocks.front().start;
        row.last = runningEnd;
    }
    m_reveal = -1;
}

void GanttPlottable::setRevealCount(int count) { m_reveal = count; }

double GanttPlottable::revealTimeMs(int count) const {
    if (count <= 0 || m_orderStart.empty()) return 0;
    return m_orderStart[static_cast<std::size_t>(std::min<int>(count, static_cast<int>(m_orderStart.size())) - 1)];
}

TimeMapping GanttPlottable::mapping() const {
    const QCPAxis* k = keyAxis();
    const QRect r = k->axisRect()->rect();
    return TimeMapping{k->range().lower, k->range().upper, static_cast<double>(r.left()),
                       static_cast<double>(std::max(r.width(), 1))};
}

QRectF GanttPlottable::rowRect(int rank, const TimeMapping&, bool comm) const {
    const QCPAxis* v = valueAxis();
    const double yA = v->coordToPixel(rank - kRowHalf);
    const double yB = v->coordToPixel(rank + kRowHalf);
    const double top = std::min(yA, yB), bottom = std::max(yA, yB);
    if (!comm) return QRectF(0, top, 0, bottom - top);
    const double h = (bottom - top) * kCommFrac;
    return QRectF(0, bottom - h, 0, h);
}

void GanttPlottable::draw(QCPPainter* painter) {
    m_lastDrawn = 0;
    const TimeMapping map = mapping();
    const QRect clip = keyAxis()->axisRect()->rect();
    painter->save();
    painter->setClipRect(clip);
    painter->setPen(Qt::NoPen);
    // Only the rows in the rank range (a zoom on p = 64 draws a few of them).
    const QCPRange ranks = valueAxis()->range();
    const int firstRow = std::max(0, static_cast<int>(std::floor(ranks.lower + 0.5 - kRowHalf)));
    const int lastRow = std::min(rowCount() - 1, static_cast<int>(std::ceil(ranks.upper - 0.5 + kRowHalf)));
    for (int r = firstRow; r <= lastRow; ++r) drawRow(painter, m_rows[static_cast<std::size_t>(r)], r, map);
    painter->restore();
}

std::vector<GanttPlottable::Block>::const_iterator GanttPlottable::firstEndingAfter(const Row& row, double t) {
    return std::lower_bound(row.blocks.begin(), row.blocks.end(), t,
                            [](const Block& b, double tt) { return b.maxEnd < tt; });
}

void GanttPlottable::drawRow(QCPPainter* painter, const Row& row, int rank, const TimeMapping& map) {
    const QRectF full = rowRect(rank, map, false);
    const QRectF comm = rowRect(rank, map, true);
    // The bubble: everything from step start to step end that no block covers.
    {
        const auto [a, b] = map.clippedX(0, m_endMs);
        QColor tint = idleColor(m_dark);
        tint.setAlpha(tint.alpha() / 2);
        const QBrush hatch = m_solidIdle ? QBrush(tint) : QBrush(idleColor(m_dark), Qt::BDiagPattern);
        painter->fillRect(QRectF(a, full.top(), b - a, full.height()), hatch);
    }
    const auto firstVisible = firstEndingAfter(row, map.t0);
    const QFont normalFont = painter->font();
    QFont smallFont = normalFont;
    smallFont.setPointSizeF(normalFont.pointSizeF() * 0.8);  // two-digit microbatches in narrow blocks
    const QFontMetrics fm(normalFont), smallFm(smallFont);
    const double minLabelH = fm.height() * 0.8;

    // Pending merged run of sub-pixel blocks [runA, runB]. It remembers how much time
    // each compute kind took so it can be drawn as a stacked bar (F on top, then B, I,
    // W): a zoomed-out steady state reads as "F and B in this ratio", not as whichever
    // block happened to come first. A comm-only run stays a thin strip.
    double runA = 0, runB = -1e300;
    double share[4] = {0, 0, 0, 0};  // F, B, I, W time in the run
    ActionKind runCommKind = ActionKind::SEND_F;
    auto flush = [&] {
        if (runB < runA) return;
        const double w = std::max(runB - runA, 1.0);
        const double total = share[0] + share[1] + share[2] + share[3];
        if (total <= 0) {
            painter->fillRect(QRectF(runA, comm.top(), w, comm.height()), kindColor(runCommKind));
            ++m_lastDrawn;
        } else {
            double y = full.top();
            for (int k = 0; k < 4; ++k) {
                if (share[k] <= 0) continue;
                const double h = full.height() * share[k] / total;
                painter->fillRect(QRectF(runA, y, w, h), kindColor(static_cast<ActionKind>(k)));
                y += h;
                ++m_lastDrawn;
            }
        }
        runB = -1e300;
        std::fill(std::begin(share), std::end(share), 0.0);
    };

    for (auto it = firstVisible; it != row.blocks.end(); ++it) {
        const Block& b = *it;
        if (b.start > map.t1) break;
        if (b.end < map.t0) continue;  // ended before the view; a block overlapping it did not
        if (m_reveal >= 0 && b.order >= m_reveal) continue;
        const bool isComm = is_comm(b.kind);
        const auto [x0, x1] = map.clippedX(b.start, b.end);
        if (x1 - x0 < kMergePx) {
            // Narrow: extend the pending run when it touches, whatever the kind (a
            // send between two forwards must not split the run), else start a new one.
            if (!(runB >= runA && x0 <= runB + 1.0)) {
                flush();
                runA = x0;
                runB = x1;
                runCommKind = b.kind;
            }
            runB = std::max(runB, x1);
            if (!isComm) share[static_cast<int>(b.kind)] += b.end - b.start;
            continue;
        }
        flush();
        // Colour only for blocks drawn alone (a sub-pixel one never needs its shade).
        QColor color = kindColor(b.kind);
        if (m_chunksPerRank > 1) color = chunkShade(color, chunkSlot(b.chunk));  // later chunks of a rank
        const QRectF& band = isComm ? comm : full;
        const QRectF rect(x0, band.top(), x1 - x0, band.height());
        painter->fillRect(rect, color);
        ++m_lastDrawn;
        if (!isComm && rect.height() >= minLabelH) {
            const QString text = QString::number(b.microbatch);
            const bool fits = fm.horizontalAdvance(text) + 4 <= rect.width();
            if (fits || smallFm.horizontalAdvance(text) + 2 <= rect.width()) {
                if (!fits) painter->setFont(smallFont);
                painter->setPen(color.lightnessF() > 0.6 ? Qt::black : Qt::white);
                painter->drawText(rect, Qt::AlignCenter, text);
                painter->setPen(Qt::NoPen);
                if (!fits) painter->setFont(normalFont);
            }
        }
        // A thin separator keeps neighbouring blocks of one kind apart.
        if (rect.width() >= 4) painter->fillRect(QRectF(x1 - 1, band.top(), 1, band.height()), color.darker(160));
    }
    flush();
}

int GanttPlottable::eventAt(const QPointF& pixel) const {
    if (m_rows.empty()) return -1;
    const double value = valueAxis()->pixelToCoord(pixel.y());
    const int rank = static_cast<int>(std::lround(value));
    if (rank < 0 || rank >= rowCount() || std::abs(value - rank) > kRowHalf) return -1;
    const TimeMapping map = mapping();
    const double slack = 3 * map.timePerPixel();  // zero-length sends stay hoverable
    const double t = map.xToTime(pixel.x());
    const Row& row = m_rows[static_cast<std::size_t>(rank)];
    int best = -1;
    for (auto it = firstEndingAfter(row, t - slack); it != row.blocks.end() && it->start <= t + slack; ++it) {
        if (it->end < t - slack || (m_reveal >= 0 && it->order >= m_reveal)) continue;
        best = it->event;
        if (it->start <= t && t <= it->end && !is_comm(it->kind)) break;  // prefer compute under the cursor
    }
    return best;
}

double GanttPlottable::selectTest(const QPointF& pos, bool onlySelectable, QVariant*) const {
    if (onlySelectable && !selectable()) return -1;
    return eventAt(pos) >= 0 ? 0 : -1;
}

QCPRange GanttPlottable::getKeyRange(bool& foundRange, QCP::SignDomain) const {
    foundRange = !m_rows.empty();
    return QCPRange(0, std::max(m_endMs, 1e-6));
}

QCPRange GanttPlottable::getValueRange(bool& foundRange, QCP::SignDomain, const QCPRange&) const {
    foundRange = !m_rows.empty();
    return QCPRange(-0.5, rowCount() - 0.5);
}

void GanttPlottable::drawLegendIcon(QCPPainter* painter, const QRectF& rect) const {
    painter->fillRect(rect, kindColor(ActionKind::F));
}

}  // namespace pipelab::ui
