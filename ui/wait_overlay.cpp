#include "ui/wait_overlay.h"

#include <algorithm>
#include <cmath>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QToolTip>

#include "ui/gantt_plottable.h"
#include "ui/kind_style.h"
#include "ui/timeline_chart.h"

namespace pipelab::ui {

namespace {
constexpr double kRowHalf = 0.4;  // as the Gantt's blocks
const QColor kFocusColor(20, 20, 20);
const QColor kDepColor(230, 120, 0);       // orange: what the block waited for
const QColor kCriticalColor(200, 0, 160);  // magenta: reads beside every kind colour
const QColor kMovedColor(0, 150, 220);

QString idleText(IdleCause c, bool shortForm) {
    if (shortForm && c == IdleCause::Transfer) return QStringLiteral("transfer");
    return QString::fromLatin1(to_string(c));
}

void drawArrow(QCPPainter* p, QPointF a, QPointF b, const QPen& pen) {
    p->setPen(pen);
    p->drawLine(a, b);
    const QLineF line(b, a);
    if (line.length() < 1) return;
    const double len = 8, ang = 0.45;
    const double t = std::atan2(a.y() - b.y(), a.x() - b.x());
    QPolygonF head;
    head << b << QPointF(b.x() + len * std::cos(t + ang), b.y() + len * std::sin(t + ang))
         << QPointF(b.x() + len * std::cos(t - ang), b.y() + len * std::sin(t - ang));
    p->setBrush(pen.color());
    QPen solid = pen;
    solid.setStyle(Qt::SolidLine);
    p->setPen(solid);
    p->drawPolygon(head);
    p->setBrush(Qt::NoBrush);
}
}  // namespace

WaitOverlay::WaitOverlay(TimelineChart* chart) : QCPLayerable(chart), m_chart(chart) {
    if (!chart->layer(QStringLiteral("waits")))
        chart->addLayer(QStringLiteral("waits"), chart->layer(QStringLiteral("main")), QCustomPlot::limAbove);
    setLayer(QStringLiteral("waits"));
    chart->installEventFilter(this);
    chart->setFocusPolicy(Qt::StrongFocus);  // arrow keys walk the blocks
}

void WaitOverlay::setTimeline(const Timeline& tl) {
    m_tl = &tl;
    m_w = analyse_waits(tl);
    m_focus = -1;
    m_pinned = false;
    m_perRank.clear();
    for (std::size_t i = 0; i < tl.events.size(); ++i) {
        const auto r = static_cast<std::size_t>(std::max(0, tl.events[i].rank));
        if (m_perRank.size() <= r) m_perRank.resize(r + 1);
        m_perRank[r].push_back(static_cast<int>(i));
    }
    for (auto& row : m_perRank)
        std::stable_sort(row.begin(), row.end(), [&](int a, int b) {
            return tl.events[static_cast<std::size_t>(a)].start_us < tl.events[static_cast<std::size_t>(b)].start_us;
        });
    setMovedActions(m_movedActions);
}

void WaitOverlay::setFocusEvent(int event, bool pinned) {
    if (!m_tl || event >= static_cast<int>(m_tl->events.size())) event = -1;
    const bool changed = event != m_focus;
    m_focus = event;
    m_pinned = event >= 0 && pinned;
    if (!changed) return;
    emit focusChanged(event);
    redraw();
}

std::vector<WaitOverlay::Arrow> WaitOverlay::arrows() const {
    std::vector<Arrow> out;
    if (m_focus < 0 || m_focus >= static_cast<int>(m_w.events.size())) return out;
    const EventWait& x = m_w.events[static_cast<std::size_t>(m_focus)];
    const bool isRecv = m_tl->events[static_cast<std::size_t>(m_focus)].kind == ActionKind::RECV_F ||
                        m_tl->events[static_cast<std::size_t>(m_focus)].kind == ActionKind::RECV_B;
    if (x.prev >= 0) out.push_back({x.prev, m_focus, ArrowKind::Previous});
    if (x.send >= 0) {  // lowered: producer -> send -> (receive ->) this
        if (x.producer >= 0) out.push_back({x.producer, x.send, ArrowKind::Producer});
        if (isRecv) {
            out.push_back({x.send, m_focus, ArrowKind::Transfer});
        } else if (x.receive >= 0) {
            out.push_back({x.send, x.receive, ArrowKind::Transfer});
            if (x.receive != x.prev) out.push_back({x.receive, m_focus, ArrowKind::Previous});
        }
    } else if (x.producer >= 0) {  // compute-only: the message is implied
        out.push_back({x.producer, m_focus, ArrowKind::Transfer});
    }
    return out;
}

std::vector<int> WaitOverlay::dependencyEvents() const {
    std::vector<int> out;
    for (const Arrow& a : arrows())
        if (std::find(out.begin(), out.end(), a.from) == out.end()) out.push_back(a.from);
    std::sort(out.begin(), out.end());
    return out;
}

QString WaitOverlay::explain(int event) const {
    if (!m_tl || event < 0 || event >= static_cast<int>(m_w.events.size())) return {};
    return QString::fromStdString(explain_wait(*m_tl, m_w, event));
}

void WaitOverlay::setCriticalPathShown(bool on) {
    if (on == m_showCritical) return;
    m_showCritical = on;
    redraw();
}

std::vector<int> WaitOverlay::criticalMarked() const {
    return m_showCritical ? m_w.critical.events : std::vector<int>{};
}

void WaitOverlay::setIdleLabelsShown(bool on) {
    if (on == m_showIdle) return;
    m_showIdle = on;
    if (!on) m_drawnLabels.clear();
    redraw();
}

void WaitOverlay::setMovedActions(const std::vector<Action>& moved) {
    m_movedActions = moved;
    m_moved.clear();
    if (!m_tl) return;
    for (std::size_t i = 0; i < m_tl->events.size(); ++i) {
        const TimelineEvent& e = m_tl->events[i];
        if (std::find(moved.begin(), moved.end(), Action{e.kind, e.chunk, e.microbatch}) != moved.end())
            m_moved.push_back(static_cast<int>(i));
    }
    redraw();
}

void WaitOverlay::redraw() {
    if (m_chart->isVisible() && !m_chart->size().isEmpty()) m_chart->replot(QCustomPlot::rpQueuedReplot);
}

QRectF WaitOverlay::blockRect(int event) const {
    const TimelineEvent& e = m_tl->events[static_cast<std::size_t>(event)];
    QCPAxis* x = m_chart->ganttRect()->axis(QCPAxis::atBottom);
    QCPAxis* y = m_chart->ganttRect()->axis(QCPAxis::atLeft);
    const double half = is_comm(e.kind) ? kRowHalf * 0.3 : kRowHalf;
    const double top = is_comm(e.kind) ? e.rank + kRowHalf - 2 * half : e.rank - kRowHalf;
    const double y0 = y->coordToPixel(top), y1 = y->coordToPixel(top + 2 * half);
    const double x0 = x->coordToPixel(e.start_us / 1000.0), x1 = x->coordToPixel(e.end_us / 1000.0);
    QRectF r(QPointF(std::min(x0, x1), std::min(y0, y1)), QPointF(std::max(x0, x1), std::max(y0, y1)));
    if (r.width() < 2) r.adjust(-1, 0, 1, 0);
    return r;
}

QRect WaitOverlay::clipRect() const { return m_chart->ganttRect()->rect(); }

void WaitOverlay::applyDefaultAntialiasingHint(QCPPainter* painter) const { painter->setAntialiasing(true); }

void WaitOverlay::draw(QCPPainter* p) {
    m_drawnLabels.clear();
    if (!m_tl || m_tl->events.empty()) return;
    const int n = static_cast<int>(m_tl->events.size());
    const bool dark = isDark(m_chart->palette().color(QPalette::Base));
    const QColor text = m_chart->palette().color(QPalette::Text);
    QCPAxis* xa = m_chart->ganttRect()->axis(QCPAxis::atBottom);
    QCPAxis* ya = m_chart->ganttRect()->axis(QCPAxis::atLeft);
    const QRect area = clipRect();

    // Step-through shows the first k actions: labels would give away the rest.
    const GanttPlottable* g = m_chart->gantt();
    const bool partial = g->revealCount() >= 0 && g->revealCount() < g->blockCount();
    if (m_showIdle && !partial) {
        QFont f = p->font();
        f.setPointSizeF(f.pointSizeF() * 0.85);
        p->setFont(f);
        const QFontMetricsF fm(f);
        const double rowPx = std::abs(ya->coordToPixel(1) - ya->coordToPixel(0));
        // Labels and their widths once per cause: a zoomed-out step of a million blocks
        // has ~100k stretches, and shaping text for each cost more than the whole Gantt.
        constexpr int kCauses = static_cast<int>(IdleCause::Other);
        QString labels[kCauses][2];
        double widths[kCauses][2];
        double narrowest = 1e300;
        for (int c = 0; c < kCauses; ++c)
            for (int sf = 0; sf < 2; ++sf) {
                labels[c][sf] = idleText(static_cast<IdleCause>(c), sf == 1);
                widths[c][sf] = fm.horizontalAdvance(labels[c][sf]);
                narrowest = std::min(narrowest, widths[c][sf]);
            }
        const QCPRange ranks = ya->range();
        for (const IdleStretch& s : m_w.idle) {
            if (s.cause == IdleCause::Other) continue;  // no cause to teach: the hatch says idle
            if (rowPx < fm.height() * 1.2) break;
            if (s.rank < ranks.lower - 0.5 || s.rank > ranks.upper + 0.5) continue;  // scrolled off
            const double x0 = std::max<double>(xa->coordToPixel(s.start_us / 1000.0), area.left());
            const double x1 = std::min<double>(xa->coordToPixel(s.end_us / 1000.0), area.right());
            if (x1 - x0 < narrowest + 8) continue;  // too narrow for any label
            const int c = static_cast<int>(s.cause);
            const int sf = widths[c][0] + 8 > x1 - x0 ? 1 : 0;
            if (widths[c][sf] + 8 > x1 - x0) continue;  // too narrow to read
            const QString& label = labels[c][sf];
            const double cy = ya->coordToPixel(s.rank - kRowHalf * 0.35);  // upper part: comm lane is below
            const QRectF box((x0 + x1) / 2 - widths[c][sf] / 2 - 3, cy - fm.height() / 2, widths[c][sf] + 6,
                             fm.height());
            QColor bg = m_chart->palette().color(QPalette::Base);
            bg.setAlpha(200);
            p->setPen(Qt::NoPen);
            p->setBrush(bg);
            p->drawRoundedRect(box, 3, 3);
            p->setPen(text);
            p->drawText(box, Qt::AlignCenter, label);
            m_drawnLabels << QStringLiteral("stage %1: %2").arg(s.rank).arg(label);
        }
        p->setBrush(Qt::NoBrush);
        p->setFont(m_chart->font());
    }

    if (m_showCritical) {
        QPen pen(kCriticalColor, 2.5);
        QPointF last;
        int lastEvent = -1;
        for (int e : m_w.critical.events) {
            if (e < 0 || e >= n) continue;
            const QRectF r = blockRect(e);
            p->setPen(pen);
            p->setBrush(Qt::NoBrush);
            p->drawRect(r);
            if (lastEvent >= 0 && m_tl->events[static_cast<std::size_t>(lastEvent)].rank !=
                                      m_tl->events[static_cast<std::size_t>(e)].rank) {
                QPen link(kCriticalColor, 1.5, Qt::DashLine);
                drawArrow(p, last, QPointF(r.left(), r.center().y()), link);
            }
            last = QPointF(r.right(), r.center().y());
            lastEvent = e;
        }
    }

    for (int e : m_moved) {
        if (e >= n) continue;
        const QRectF r = blockRect(e).adjusted(-1, -1, 1, 1);
        p->setPen(QPen(kMovedColor, 2, Qt::DashLine));
        p->setBrush(Qt::NoBrush);
        p->drawRect(r);
        p->setPen(Qt::NoPen);
        p->setBrush(kMovedColor);
        p->drawEllipse(QPointF(r.left() + 4, r.top() + 4), 3.5, 3.5);  // badge: reads at any zoom
        p->setBrush(Qt::NoBrush);
    }

    if (m_focus >= 0 && m_focus < n) {
        for (const Arrow& a : arrows()) {
            const QRectF from = blockRect(a.from), to = blockRect(a.to);
            p->setPen(QPen(kDepColor, 2));
            p->drawRect(from);
            QPen pen(a.kind == ArrowKind::Previous ? (dark ? QColor(200, 200, 200) : QColor(90, 90, 90)) : kDepColor, 2,
                     a.kind == ArrowKind::Transfer ? Qt::DashLine : Qt::SolidLine);
            // A receive is posted early and waits: the message arrives at its end.
            const auto& target = m_tl->events[static_cast<std::size_t>(a.to)];
            const bool intoRecv = target.kind == ActionKind::RECV_F || target.kind == ActionKind::RECV_B;
            drawArrow(p, QPointF(from.right(), from.center().y()),
                      QPointF(intoRecv ? to.right() : to.left(), to.center().y()), pen);
        }
        const QRectF focus = blockRect(m_focus).adjusted(-1, -1, 1, 1);
        p->setPen(QPen(dark ? QColor(245, 245, 245) : kFocusColor, 2.5));
        p->drawRect(focus);
        if (m_pinned) drawCallout(p, focus, explain(m_focus));
    }
}

// A pinned block (click, keys) says why it waited beside it, so the answer stays on
// screen (and in an exported picture) while the mouse is elsewhere.
void WaitOverlay::drawCallout(QCPPainter* p, const QRectF& block, const QString& text) {
    if (text.isEmpty()) return;
    const QRect area = clipRect();
    const QFontMetricsF fm(p->font());
    const double w = fm.horizontalAdvance(text) + 12, h = fm.height() + 8;
    double x = std::clamp(block.center().x() - w / 2, double(area.left()) + 2, double(area.right()) - w - 2);
    double y = block.top() - h - 6;
    if (y < area.top() + 2) y = block.bottom() + 6;
    const QRectF box(x, y, w, h);
    QColor bg = m_chart->palette().color(QPalette::ToolTipBase);
    bg.setAlpha(235);
    p->setPen(QPen(kDepColor, 1.5));
    p->setBrush(bg);
    p->drawRoundedRect(box, 4, 4);
    p->setPen(m_chart->palette().color(QPalette::ToolTipText));
    p->drawText(box, Qt::AlignCenter, text);
    p->setBrush(Qt::NoBrush);
}

void WaitOverlay::showTipFor(int event) {
    if (event < 0 || !m_chart->isVisible()) return;
    const QRectF r = blockRect(event);
    const QPoint at = m_chart->mapToGlobal(QPoint(static_cast<int>(r.center().x()), static_cast<int>(r.bottom())));
    QToolTip::showText(at, m_chart->toolTipAt(r.center().toPoint()), m_chart);
}

bool WaitOverlay::handleKey(int key) {
    if (!m_tl || m_tl->events.empty()) return false;
    if (key == Qt::Key_Escape) {
        if (m_focus < 0) return false;
        setFocusEvent(-1);
        QToolTip::hideText();
        return true;
    }
    if (key != Qt::Key_Left && key != Qt::Key_Right && key != Qt::Key_Up && key != Qt::Key_Down) return false;
    int next = -1;
    if (m_focus < 0) {
        for (const auto& row : m_perRank)
            if (!row.empty()) {
                next = row.front();
                break;
            }
    } else {
        const TimelineEvent& e = m_tl->events[static_cast<std::size_t>(m_focus)];
        if (e.rank < 0 || e.rank >= static_cast<int>(m_perRank.size())) return false;
        const auto& row = m_perRank[static_cast<std::size_t>(e.rank)];
        const auto it = std::find(row.begin(), row.end(), m_focus);
        const auto pos = it - row.begin();
        if (key == Qt::Key_Left)
            next = pos > 0 ? row[static_cast<std::size_t>(pos - 1)] : m_focus;
        else if (key == Qt::Key_Right)
            next = pos + 1 < static_cast<long>(row.size()) ? row[static_cast<std::size_t>(pos + 1)] : m_focus;
        else {
            const int r = e.rank + (key == Qt::Key_Down ? 1 : -1);  // rank 0 is on top
            if (r < 0 || r >= static_cast<int>(m_perRank.size()) || m_perRank[static_cast<std::size_t>(r)].empty())
                return true;
            // The block on that rank nearest in time.
            const double t = (e.start_us + e.end_us) / 2;
            double best = 1e300;
            for (int i : m_perRank[static_cast<std::size_t>(r)]) {
                const TimelineEvent& o = m_tl->events[static_cast<std::size_t>(i)];
                const double d = std::abs((o.start_us + o.end_us) / 2 - t);
                if (d < best) {
                    best = d;
                    next = i;
                }
            }
        }
    }
    setFocusEvent(next, true);
    showTipFor(next);
    return true;
}

bool WaitOverlay::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_chart || !m_tl) return false;
    switch (event->type()) {
    case QEvent::MouseMove: {
        auto* me = static_cast<QMouseEvent*>(event);
        if (me->buttons() != Qt::NoButton || m_pinned) break;
        const QPoint pos = me->position().toPoint();
        setFocusEvent(m_chart->ganttRect()->rect().contains(pos) ? m_chart->gantt()->eventAt(pos) : -1, false);
        break;
    }
    case QEvent::MouseButtonPress: m_pressPos = static_cast<QMouseEvent*>(event)->position().toPoint(); break;
    case QEvent::MouseButtonRelease: {
        auto* me = static_cast<QMouseEvent*>(event);
        const QPoint pos = me->position().toPoint();
        if (me->button() != Qt::LeftButton || (pos - m_pressPos).manhattanLength() > 4) break;  // a pan, not a click
        const int hit = m_chart->ganttRect()->rect().contains(pos) ? m_chart->gantt()->eventAt(pos) : -1;
        setFocusEvent(hit, hit >= 0);
        break;
    }
    case QEvent::Leave:
        if (!m_pinned) setFocusEvent(-1, false);
        break;
    case QEvent::ShortcutOverride: {  // Escape is the window's Cancel: take it while a block is focused
        auto* ke = static_cast<QKeyEvent*>(event);
        if (ke->key() == Qt::Key_Escape && m_focus >= 0) ke->accept();
        break;
    }
    case QEvent::KeyPress: return handleKey(static_cast<QKeyEvent*>(event)->key());
    default: break;
    }
    return false;
}

}  // namespace pipelab::ui
