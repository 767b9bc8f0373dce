#include "ui/timeline_chart.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <QResizeEvent>
#include <QToolTip>
#include <QWheelEvent>

#include "ui/gantt_plottable.h"
#include "ui/kind_style.h"
#include "ui/legend_wrap.h"
#include "ui/rank_ticker.h"
#include "ui/time_mapping.h"
#include "ui/wait_overlay.h"
#include "ui/zoom_state.h"

namespace pipelab::ui {

namespace {
constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kLegendColumns = 5;  // at most, on a wide window

QCPLegend* makeLegend(QCustomPlot* plot, QCPLayoutGrid* layout, int row, int columns) {
    auto* legend = new QCPLegend;
    layout->addElement(row, 0, legend);
    legend->setLayer(QStringLiteral("legend"));
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(columns);  // a narrow chart must not clip entries
    legend->setMargins(QMargins(4, 0, 4, 0));
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setVisible(true);
    Q_UNUSED(plot);
    return legend;
}
}  // namespace

TimelineChart::TimelineChart(QWidget* parent) : QCustomPlot(parent) {
    setAntialiasedElements(QCP::aeNone);
    setNoAntialiasingOnDrag(true);
    plotLayout()->clear();  // also deletes the default axis rect and legend

    m_title = new QCPTextElement(this, QString(), QFont(font().family(), font().pointSize() + 1, QFont::Bold));
    m_ganttRect = new QCPAxisRect(this);
    m_memRect = new QCPAxisRect(this);
    plotLayout()->addElement(0, 0, m_title);
    plotLayout()->addElement(1, 0, m_ganttRect);
    m_kindLegend = makeLegend(this, plotLayout(), 2, kLegendColumns);
    plotLayout()->addElement(3, 0, m_memRect);
    m_memLegend = makeLegend(this, plotLayout(), 4, kLegendColumns);
    plotLayout()->setRowStretchFactors({0.001, 3.0, 0.001, 1.6, 0.001});
    plotLayout()->setRowSpacing(2);

    auto* group = new QCPMarginGroup(this);
    for (QCPAxisRect* r : {m_ganttRect, m_memRect}) {
        r->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        r->setRangeDrag(Qt::Horizontal);
        r->setRangeZoom(Qt::Horizontal);
        r->setRangeZoomFactor(0.8);
        connect(r->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
                &TimelineChart::onRangeChanged);
    }
    m_ganttRect->setRangeDrag(Qt::Horizontal | Qt::Vertical);  // vertical drag scrolls the ranks
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

    QCPAxis* gy = m_ganttRect->axis(QCPAxis::atLeft);
    gy->setRangeReversed(true);  // rank 0 on top, as in every pipeline diagram
    gy->grid()->setVisible(false);
    m_rankTicker = new RankTicker;
    gy->setTicker(QSharedPointer<QCPAxisTicker>(m_rankTicker));
    connect(gy, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &TimelineChart::onRankRangeChanged);
    // Labels are thinned from the rows' height, known once the layout has run.
    connect(this, &QCustomPlot::afterLayout, this, &TimelineChart::updateRankLabelStep);
    // Legends wrap to the width they get, so no entry is clipped in a small window.
    connect(this, &QCustomPlot::beforeReplot, this, [this] {
        for (QCPLegend* l : {m_kindLegend, m_memLegend}) fitLegend(l, width(), kLegendColumns);
    });
    gy->setTickLength(0, 0);
    gy->setSubTicks(false);
    m_memRect->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("memory (MiB)"));
    m_memRect->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("time (ms)"));

    m_gantt = new GanttPlottable(m_ganttRect->axis(QCPAxis::atBottom), gy);
    m_gantt->setName(QStringLiteral("actions"));
    m_gantt->removeFromLegend();
    m_waits = new WaitOverlay(this);

    m_cursor = new QCPItemStraightLine(this);
    m_cursor->setClipAxisRect(m_ganttRect);
    for (QCPItemPosition* pos : {m_cursor->point1, m_cursor->point2})
        pos->setAxes(m_ganttRect->axis(QCPAxis::atBottom), gy);
    m_cursor->setPen(QPen(QColor(220, 40, 40), 2));
    m_cursor->setVisible(false);

    m_memMask = new QCPItemRect(this);
    m_memMask->setClipAxisRect(m_memRect);
    for (QCPItemPosition* pos : {m_memMask->topLeft, m_memMask->bottomRight}) {
        pos->setAxes(m_memRect->axis(QCPAxis::atBottom), m_memRect->axis(QCPAxis::atLeft));
        pos->setAxisRect(m_memRect);
        pos->setTypeX(QCPItemPosition::ptPlotCoords);
        pos->setTypeY(QCPItemPosition::ptAxisRectRatio);
    }
    m_memMask->setPen(Qt::NoPen);
    m_memMask->setLayer(QStringLiteral("overlay"));  // above the graphs
    m_memMask->setVisible(false);

    m_ownZoom = new ZoomState(this);
    setZoomState(nullptr);

    setMouseTracking(true);
    applyPalette();
}

void TimelineChart::setZoomState(ZoomState* zoom) {
    if (m_zoom) disconnect(m_zoom, nullptr, this, nullptr);
    m_zoom = zoom ? zoom : m_ownZoom;
    connect(m_zoom, &ZoomState::rangeChanged, this, &TimelineChart::applyZoom);
    applyZoom(m_zoom->range());
}

void TimelineChart::applyZoom(const ZoomRange& range) {
    m_syncing = true;
    const QCPRange time(range.t0, range.t1);
    for (QCPAxisRect* r : {m_ganttRect, m_memRect}) r->axis(QCPAxis::atBottom)->setRange(time);
    m_ganttRect->axis(QCPAxis::atLeft)->setRange(range.r0, range.r1);
    m_syncing = false;
    emit timeRangeChanged(time);
    if (isVisible() && !size().isEmpty()) replot(QCustomPlot::rpQueuedReplot);
}

int TimelineChart::rankLabelStep() const { return m_rankTicker->step(); }

void TimelineChart::updateRankLabelStep() {
    const QCPRange r = m_ganttRect->axis(QCPAxis::atLeft)->range();
    const double rowPx = m_ganttRect->height() / std::max(r.size(), 1e-9);
    const int step = pipelab::ui::rankLabelStep(
        rowPx, QFontMetrics(m_ganttRect->axis(QCPAxis::atLeft)->tickLabelFont()).height() * 1.1);
    if (step == m_rankTicker->step()) return;
    m_rankTicker->setStep(step);
    m_ganttRect->update(QCPLayoutElement::upPreparation);  // regenerate the ticks for this draw
}

void TimelineChart::setTitle(const QString& title) { m_title->setText(title); }

void TimelineChart::clearTimeline() {
    m_timeline = Timeline{};
    m_hasTimeline = false;
    m_gantt->setTimeline(m_timeline);
    m_waits->setTimeline(m_timeline);
    rebuildRowLabels();
    rebuildMemory();
    refresh();
}

void TimelineChart::refresh() {
    if (isVisible() && width() > 0 && height() > 0) replot();
}

void TimelineChart::setTimeline(const Timeline& tl) {
    m_timeline = tl;
    m_hasTimeline = true;
    m_gantt->setTimeline(m_timeline);
    m_waits->setTimeline(m_timeline);
    m_cursor->setVisible(false);
    m_memMask->setVisible(false);
    rebuildRowLabels();
    rebuildMemory();
    // A shared zoom's extent is set by its owner, who knows every chart that shares it.
    if (m_zoom == m_ownZoom)
        m_zoom->setExtent(m_gantt->endMs(), std::max(m_gantt->rowCount(), 1));  // replots
    else
        refresh();
}

void TimelineChart::rebuildRowLabels() {
    QCPAxis* gy = m_ganttRect->axis(QCPAxis::atLeft);
    QStringList labels;
    const int rows = m_gantt->rowCount();
    for (int r = 0; r < rows; ++r) {
        const auto& dev = m_timeline.meta.devices;
        // An opened trace may name no device: the backend says more than "stage 0 · ".
        QString device =
            r < static_cast<int>(dev.size()) ? QString::fromStdString(dev[static_cast<std::size_t>(r)]) : QString();
        if (device.isEmpty()) device = QString::fromStdString(m_timeline.meta.backend);
        labels << (device.isEmpty() ? QStringLiteral("stage %1").arg(r)
                                    : QStringLiteral("stage %1 \u00b7 %2").arg(r).arg(device));
    }
    m_rankTicker->setLabels(labels);

    // Kind legend: only the kinds this run has, plus the bubble.
    if (m_kindLegend) m_kindLegend->clearItems();
    for (int i = plottableCount() - 1; i >= 0; --i)
        if (plottable(i)->property("legendOnly").toBool()) removePlottable(i);
    bool present[kNumActionKinds] = {};
    for (const TimelineEvent& e : m_timeline.events) present[static_cast<int>(e.kind)] = true;
    auto addEntry = [&](const QString& name, const QBrush& brush) {
        auto* bars = new QCPBars(m_ganttRect->axis(QCPAxis::atBottom), gy);
        bars->setProperty("legendOnly", true);
        bars->setName(name);
        bars->setBrush(brush);
        bars->setPen(QPen(brush.color().darker(140)));
        bars->removeFromLegend();
        if (m_kindLegend) bars->addToLegend(m_kindLegend);
    };
    const ActionKind compute[] = {ActionKind::F, ActionKind::B, ActionKind::I, ActionKind::W, ActionKind::R};
    for (ActionKind k : compute)
        if (present[static_cast<int>(k)])
            addEntry(QString(QChar(to_string(k)[0])) + QStringLiteral("  ") + kindName(k), kindColor(k));
    if (present[static_cast<int>(ActionKind::SEND_F)] || present[static_cast<int>(ActionKind::RECV_F)])
        addEntry(QStringLiteral("send/recv activation"), kindColor(ActionKind::SEND_F));
    if (present[static_cast<int>(ActionKind::SEND_B)] || present[static_cast<int>(ActionKind::RECV_B)])
        addEntry(QStringLiteral("send/recv gradient"), kindColor(ActionKind::SEND_B));
    // One entry per shade the plottable uses (chunkShade), so each chunk can be read off.
    for (int virt = 1; virt < m_timeline.meta.chunks; ++virt) {
        const QString nth = virt == 1   ? QStringLiteral("2nd")
                            : virt == 2 ? QStringLiteral("3rd")
                                        : QStringLiteral("%1th").arg(virt + 1);
        addEntry((virt == 1 ? QStringLiteral("darker: ") : QStringLiteral("darker still: ")) + nth +
                     QStringLiteral(" chunk of a rank"),
                 chunkShade(kindColor(ActionKind::F), virt));
    }
    addEntry(QStringLiteral("idle (bubble)"),
             QBrush(idleColor(isDark(palette().color(QPalette::Base))), Qt::BDiagPattern));
    plottable(plottableCount() - 1)->setProperty("idleEntry", true);
}

void TimelineChart::rebuildMemory() {
    for (int i = graphCount() - 1; i >= 0; --i)
        if (graph(i)->valueAxis() == m_memRect->axis(QCPAxis::atLeft)) removeGraph(i);
    if (m_memLegend) m_memLegend->clearItems();
    QCPAxis* mx = m_memRect->axis(QCPAxis::atBottom);
    QCPAxis* my = m_memRect->axis(QCPAxis::atLeft);

    std::map<int, std::vector<const MemorySample*>> perRank;
    for (const MemorySample& s : m_timeline.memory) perRank[s.rank].push_back(&s);
    const double end = m_timeline.step_time_us() / 1000.0;
    double maxMiB = 0;
    auto value = [this](const MemorySample& s) -> double {
        switch (m_memoryMode) {
        case MemoryMode::Total: return static_cast<double>(s.total());
        case MemoryMode::Activations: return static_cast<double>(s.activations);
        case MemoryMode::Params: return static_cast<double>(s.params);
        case MemoryMode::Grads: return static_cast<double>(s.grads);
        case MemoryMode::Optimizer: return static_cast<double>(s.optimizer);
        case MemoryMode::NUM_MODES: break;
        }
        return 0.0;
    };
    for (auto& [rank, samples] : perRank) {
        std::stable_sort(samples.begin(), samples.end(),
                         [](const MemorySample* a, const MemorySample* b) { return a->time_us < b->time_us; });
        QVector<double> t, v, res;
        t.reserve(static_cast<int>(samples.size()) + 1);
        for (std::size_t i = 0; i < samples.size(); ++i) {
            const MemorySample* s = samples[i];
            // Several samples at one instant (a backward frees, the next forward
            // allocates): only the last is the level that lasts; the rest would draw
            // zero-width spikes.
            if (i + 1 < samples.size() && samples[i + 1]->time_us == s->time_us) continue;
            t.push_back(s->time_us / 1000.0);
            v.push_back(value(*s) / kMiB);
            // Resident: what the rank holds all step long, its workspace included.
            res.push_back(static_cast<double>(s->params + s->grads + s->optimizer + s->workspace) / kMiB);
            maxMiB = std::max(maxMiB, v.back());
        }
        if (!t.isEmpty() && t.back() < end) {  // hold the last level to the step's end
            t.push_back(end);
            v.push_back(v.back());
            res.push_back(res.back());
        }
        QVector<double> rt, rv;  // resident memory changes rarely: keep only its steps
        for (int i = 0; i < res.size(); ++i)
            if (i == 0 || i + 1 == res.size() || res[i] != res[i - 1]) {
                rt.push_back(t[i]);
                rv.push_back(res[i]);
            }
        // Qt's stroker makes wide pens slow on long polylines: thin lines for big runs.
        const double penW = t.size() > 500 ? 1.0 : 2.0;
        QCPGraph* g = addGraph(mx, my);
        g->setLineStyle(QCPGraph::lsStepLeft);
        g->setPen(QPen(rankColor(rank), penW));
        // Antialiased lines go through Qt's stroker and path fill (most of a replot at
        // 100k blocks); aliased 1 px lines take the raster engine's fast path.
        const bool big = t.size() > 500;
        g->setAntialiased(!big);
        g->setName(QStringLiteral("stage %1").arg(rank));
        g->setData(t, v, true);
        g->removeFromLegend();
        if (m_memLegend && perRank.size() <= 8) g->addToLegend(m_memLegend);  // beyond 8, colours + tooltip
        if (m_memoryMode == MemoryMode::Total) {
            QCPGraph* r = addGraph(mx, my);
            r->setLineStyle(QCPGraph::lsStepLeft);
            r->setPen(QPen(rankColor(rank), big ? 1.0 : 1.5, Qt::DashLine));
            r->setAntialiased(!big);
            r->setData(rt, rv, true);
            r->removeFromLegend();
        }
    }
    if (m_memoryMode == MemoryMode::Total && !perRank.empty()) {
        QCPGraph* key = addGraph(mx, my);  // legend entry explaining the dashes
        key->setPen(QPen(palette().color(QPalette::Text), 1.5, Qt::DashLine));
        key->setName(QStringLiteral("dashed: resident memory (gap above = activations)"));
        key->removeFromLegend();
        if (m_memLegend) key->addToLegend(m_memLegend);
    }
    m_memMax = maxMiB;
    const double top = m_memTop > 0 ? m_memTop : maxMiB;
    my->setRange(0, top > 0 ? top * 1.08 : 1);
}

void TimelineChart::removeLegends(bool kinds, bool memory) {
    auto drop = [this](QCPLegend*& which) {
        if (!which) return;
        plotLayout()->remove(which);
        which = nullptr;
    };
    if (kinds) drop(m_kindLegend);
    if (memory) drop(m_memLegend);
    plotLayout()->simplify();
    // Rows now: title, gantt, [kind legend], memory, [memory legend].
    QList<double> f{0.001, 2.4};
    if (m_kindLegend) f << 0.001;
    f << 1.6;
    m_memRect->axis(QCPAxis::atLeft)->ticker()->setTickCount(3);  // short axis: fewer, readable ticks
    if (m_memLegend) f << 0.001;
    plotLayout()->setRowStretchFactors(f);
}

void TimelineChart::setMemoryTop(double mib) {
    m_memTop = mib;
    const double top = m_memTop > 0 ? m_memTop : m_memMax;
    m_memRect->axis(QCPAxis::atLeft)->setRange(0, top > 0 ? top * 1.08 : 1);
    refresh();
}

void TimelineChart::setMemoryMode(MemoryMode mode) {
    if (mode == m_memoryMode) return;
    m_memoryMode = mode;
    rebuildMemory();
    refresh();
}

void TimelineChart::setTimeRange(double t0Ms, double t1Ms) { m_zoom->setTimeRange(t0Ms, t1Ms); }

QCPRange TimelineChart::timeRange() const { return m_ganttRect->axis(QCPAxis::atBottom)->range(); }
QCPRange TimelineChart::rankRange() const { return m_ganttRect->axis(QCPAxis::atLeft)->range(); }

void TimelineChart::resetZoom() {
    m_zoom->fit();
    refresh();
}

void TimelineChart::onRangeChanged(const QCPRange& requested) {
    if (m_syncing) return;
    // The zoom state keeps the step in view (no zooming out past it, no panning it off
    // screen); its answer is applied even when it refused the change.
    m_zoom->setTimeRange(requested.lower, requested.upper);
    applyZoom(m_zoom->range());
}

void TimelineChart::onRankRangeChanged(const QCPRange& requested) {
    if (m_syncing) return;
    m_zoom->setRankRange(requested.lower, requested.upper);
    applyZoom(m_zoom->range());
}

void TimelineChart::wheelEvent(QWheelEvent* event) {
    // Ctrl+wheel zooms the ranks about the row under the cursor, Shift+wheel scrolls
    // them; a plain wheel zooms time (QCustomPlot, horizontal only).
    const Qt::KeyboardModifiers mods = event->modifiers();
    if (!(mods & (Qt::ControlModifier | Qt::ShiftModifier)) ||
        !m_ganttRect->rect().contains(event->position().toPoint()))
        return QCustomPlot::wheelEvent(event);
    const double notches = event->angleDelta().y() / 120.0;
    const QCPRange r = rankRange();
    if (mods & Qt::ControlModifier) {
        const double at = m_ganttRect->axis(QCPAxis::atLeft)->pixelToCoord(event->position().y());
        const double f = std::pow(0.8, notches);
        m_zoom->setRankRange(at + (r.lower - at) * f, at + (r.upper - at) * f);
    } else {
        const double d = -notches * std::max(1.0, r.size() / 8);
        m_zoom->setRankRange(r.lower + d, r.upper + d);
    }
    event->accept();
}

void TimelineChart::setRevealCount(int count) {
    m_gantt->setRevealCount(count);
    const bool partial = count >= 0 && count < m_gantt->blockCount();
    m_cursor->setVisible(partial);
    m_memMask->setVisible(partial);
    if (partial) {
        const double t = m_gantt->revealTimeMs(count);
        m_cursor->point1->setCoords(t, 0);
        m_cursor->point2->setCoords(t, 1);
        QColor veil = palette().color(QPalette::Base);
        veil.setAlpha(215);
        m_memMask->setBrush(veil);
        m_memMask->topLeft->setCoords(t, 0);
        m_memMask->bottomRight->setCoords(std::max(m_gantt->endMs(), t) * 1.1, 1);
    }
    if (isVisible() && !size().isEmpty()) replot(QCustomPlot::rpQueuedReplot);
}

QString TimelineChart::toolTipAt(const QPoint& pos) const {
    if (!m_hasTimeline) return {};
    if (m_ganttRect->rect().contains(pos)) {
        const int i = m_gantt->eventAt(pos);
        if (i < 0) return {};
        const TimelineEvent& e = m_timeline.events[static_cast<std::size_t>(i)];
        return QStringLiteral("<b>%1</b> %2<br>stage %3, chunk %4, microbatch %5<br>start %6, duration %7")
                   .arg(QString::fromStdString(to_string(Action{e.kind, e.chunk, e.microbatch})), kindName(e.kind))
                   .arg(e.rank)
                   .arg(e.chunk)
                   .arg(e.microbatch)
                   .arg(formatMs(e.start_us), formatMs(e.duration_us())) +
               QStringLiteral("<br><i>%1</i>").arg(m_waits->explain(i).toHtmlEscaped());
    }
    if (m_memRect->rect().contains(pos)) {
        const double tUs = m_memRect->axis(QCPAxis::atBottom)->pixelToCoord(pos.x()) * 1000.0;
        std::map<int, const MemorySample*> at;  // last sample at or before t per rank
        for (const MemorySample& s : m_timeline.memory)
            if (s.time_us <= tUs && (!at.count(s.rank) || at[s.rank]->time_us <= s.time_us)) at[s.rank] = &s;
        QString text = QStringLiteral("<b>t = %1</b>").arg(formatMs(tUs));
        for (const auto& [rank, s] : at)
            text +=
                QStringLiteral(
                    "<br>stage %1: %2 (params %3, grads %4, optimizer %5, workspace %6, activations %7, "
                    "messages %8)")
                    .arg(rank)
                    .arg(formatMiB(static_cast<double>(s->total())), formatMiB(static_cast<double>(s->params)),
                         formatMiB(static_cast<double>(s->grads)), formatMiB(static_cast<double>(s->optimizer)),
                         formatMiB(static_cast<double>(s->workspace)), formatMiB(static_cast<double>(s->activations)),
                         formatMiB(static_cast<double>(s->messages)));
        return text;
    }
    return {};
}

void TimelineChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton) return;
    const QString tip = toolTipAt(event->position().toPoint());
    if (tip.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), tip, this);
}

void TimelineChart::mouseDoubleClickEvent(QMouseEvent* event) {
    QCustomPlot::mouseDoubleClickEvent(event);
    resetZoom();
}

void TimelineChart::setSolidIdle(bool solid) {
    m_gantt->setSolidIdle(solid);
    const QColor idle = idleColor(isDark(palette().color(QPalette::Base)));
    QColor tint = idle;
    tint.setAlpha(idle.alpha() / 2);
    for (int i = 0; i < plottableCount(); ++i)
        if (auto* bars = qobject_cast<QCPBars*>(plottable(i)); bars && bars->property("idleEntry").toBool())
            bars->setBrush(solid ? QBrush(tint) : QBrush(idle, Qt::BDiagPattern));
}

void TimelineChart::showEvent(QShowEvent* event) {
    QCustomPlot::showEvent(event);
    // Changes made while hidden were not drawn. Queued: the layout gives the chart its
    // size after the show, and refresh() draws nothing into a zero-size buffer.
    QMetaObject::invokeMethod(this, &TimelineChart::refresh, Qt::QueuedConnection);
}

void TimelineChart::resizeEvent(QResizeEvent* event) {
    // QCustomPlot replots on every resize; a hidden chart (the other tab, the compare
    // view during a grab) or one the layout has not sized yet would paint into a null
    // pixmap ("QPainter::begin: Paint device returned engine == 0"). Keep the viewport
    // current and let showEvent draw.
    if (isVisible() && !event->size().isEmpty()) return QCustomPlot::resizeEvent(event);
    setViewport(rect());
}

void TimelineChart::changeEvent(QEvent* event) {
    QCustomPlot::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyPalette();
        if (m_hasTimeline) {
            rebuildRowLabels();
            rebuildMemory();  // its lines take the rank colours, which follow the palette
        }
        refresh();
    }
}

void TimelineChart::applyPalette() {
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    const QColor grid = isDark(pal.color(QPalette::Base)) ? QColor(255, 255, 255, 40) : QColor(0, 0, 0, 35);
    setBackground(pal.brush(QPalette::Base));
    m_gantt->setDarkPalette(isDark(pal.color(QPalette::Base)));
    m_title->setTextColor(text);
    for (QCPAxisRect* r : {m_ganttRect, m_memRect}) {
        for (QCPAxis* a : r->axes()) {
            a->setBasePen(QPen(text));
            a->setTickPen(QPen(text));
            a->setSubTickPen(QPen(text));
            a->setTickLabelColor(text);
            a->setLabelColor(text);
            a->grid()->setPen(QPen(grid));
            a->grid()->setSubGridVisible(false);
        }
    }
    for (QCPLegend* l : {m_kindLegend, m_memLegend}) {
        if (!l) continue;
        l->setTextColor(text);
        l->setBrush(Qt::NoBrush);
    }
}

}  // namespace pipelab::ui
