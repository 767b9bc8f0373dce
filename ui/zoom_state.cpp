#include "ui/zoom_state.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <QAction>

#include "ui/time_mapping.h"

namespace pipelab::ui {

namespace {
constexpr qint64 kGestureMergeMs = 700;  // wheel notches and drag moves closer than this merge
constexpr int kMaxUndo = 100;
constexpr double kZoomStep = 0.7;  // one key press shows 70 % of the span
constexpr double kPanStep = 0.25;  // one key press moves a quarter of the span

QAction* makeAction(QObject* parent, const QString& text, const QList<QKeySequence>& keys, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcuts(keys);
    a->setToolTip(tip);
    return a;
}
}  // namespace

ZoomState::ZoomState(QObject* parent)
    : QObject(parent),
      m_zoomIn(makeAction(this, tr("Zoom &in (time)"), {QKeySequence(tr("Ctrl+=")), QKeySequence(tr("Ctrl++"))},
                          tr("Show less time, more detail"))),
      m_zoomOut(makeAction(this, tr("Zoom &out (time)"), {QKeySequence(tr("Ctrl+-"))}, tr("Show more time"))),
      m_panLeft(makeAction(this, tr("Pan &left"), {QKeySequence(tr("Shift+Left"))}, tr("Earlier in the step"))),
      m_panRight(makeAction(this, tr("Pan &right"), {QKeySequence(tr("Shift+Right"))}, tr("Later in the step"))),
      m_rankIn(makeAction(this, tr("Zoom in (&ranks)"),
                          {QKeySequence(tr("Ctrl+Shift+=")), QKeySequence(tr("Ctrl+Shift++"))},
                          tr("Fewer ranks, taller rows"))),
      m_rankOut(makeAction(this, tr("Zoom out (r&anks)"),
                           {QKeySequence(tr("Ctrl+Shift+-")), QKeySequence(tr("Ctrl+Shift+_"))},
                           tr("More ranks, shorter rows"))),
      m_rankUp(makeAction(this, tr("Scroll ranks &up"), {QKeySequence(tr("Shift+Up"))}, tr("Lower ranks"))),
      m_rankDown(makeAction(this, tr("Scroll ranks &down"), {QKeySequence(tr("Shift+Down"))}, tr("Higher ranks"))),
      m_fit(makeAction(this, tr("&Fit to view"), {QKeySequence(tr("Ctrl+0"))}, tr("The whole step and every rank"))),
      m_undo(makeAction(this, tr("&Back to previous zoom"),
                        {QKeySequence(tr("Alt+Left")), QKeySequence(tr("Ctrl+Backspace"))},
                        tr("Undo the last zoom or pan"))) {
    connect(m_zoomIn, &QAction::triggered, this, [this] { zoomTime(kZoomStep); });
    connect(m_zoomOut, &QAction::triggered, this, [this] { zoomTime(1 / kZoomStep); });
    connect(m_panLeft, &QAction::triggered, this, [this] { panTime(-kPanStep); });
    connect(m_panRight, &QAction::triggered, this, [this] { panTime(kPanStep); });
    connect(m_rankIn, &QAction::triggered, this, [this] { zoomRanks(kZoomStep); });
    connect(m_rankOut, &QAction::triggered, this, [this] { zoomRanks(1 / kZoomStep); });
    connect(m_rankUp, &QAction::triggered, this, [this] { panRanks(-kPanStep); });
    connect(m_rankDown, &QAction::triggered, this, [this] { panRanks(kPanStep); });
    connect(m_fit, &QAction::triggered, this, &ZoomState::fit);
    connect(m_undo, &QAction::triggered, this, &ZoomState::undo);
    m_undo->setEnabled(false);
    connect(this, &ZoomState::canUndoChanged, m_undo, &QAction::setEnabled);
}

QList<QAction*> ZoomState::actions() const {
    return {m_zoomIn, m_zoomOut, m_panLeft, m_panRight, m_rankIn, m_rankOut, m_rankUp, m_rankDown, m_fit, m_undo};
}

ZoomRange ZoomState::clamped(ZoomRange r) const {
    std::tie(r.t0, r.t1) = clampToStep(r.t0, r.t1, m_endMs);
    std::tie(r.r0, r.r1) = clampRanks(r.r0, r.r1, m_rows);
    return r;
}

void ZoomState::setExtent(double endMs, int rows) {
    m_endMs = endMs;
    m_rows = std::max(rows, 1);
    const bool had = canUndo();
    m_stack.clear();
    m_lastGesture.invalidate();
    if (had) emit canUndoChanged(false);
    const double end = std::max(endMs, 1e-3);
    m_range = clamped({-0.01 * end, 1.01 * end, -0.5, m_rows - 0.5});
    emit rangeChanged(m_range);
}

void ZoomState::change(ZoomRange next, bool gesture) {
    next = clamped(next);
    if (next == m_range) return;
    const bool merge = gesture && m_lastGesture.isValid() && m_lastGesture.elapsed() < kGestureMergeMs;
    if (!merge) {
        const bool had = canUndo();
        m_stack.push_back(m_range);
        if (m_stack.size() > kMaxUndo) m_stack.removeFirst();
        if (!had) emit canUndoChanged(true);
    }
    if (gesture)
        m_lastGesture.start();
    else
        m_lastGesture.invalidate();
    m_range = next;
    emit rangeChanged(m_range);
}

void ZoomState::setTimeRange(double t0, double t1) {
    ZoomRange r = m_range;
    r.t0 = t0;
    r.t1 = t1;
    change(r, true);
}

void ZoomState::setRankRange(double r0, double r1) {
    ZoomRange r = m_range;
    r.r0 = r0;
    r.r1 = r1;
    change(r, true);
}

void ZoomState::zoomTime(double factor) {
    ZoomRange r = m_range;
    const double c = (r.t0 + r.t1) / 2, half = (r.t1 - r.t0) / 2 * factor;
    r.t0 = c - half;
    r.t1 = c + half;
    change(r, false);
}

void ZoomState::zoomRanks(double factor) {
    ZoomRange r = m_range;
    const double c = (r.r0 + r.r1) / 2, half = (r.r1 - r.r0) / 2 * factor;
    r.r0 = c - half;
    r.r1 = c + half;
    change(r, false);
}

void ZoomState::panTime(double fraction) {
    ZoomRange r = m_range;
    const double d = (r.t1 - r.t0) * fraction;
    r.t0 += d;
    r.t1 += d;
    change(r, false);
}

void ZoomState::panRanks(double fraction) {
    ZoomRange r = m_range;
    const double d = std::max(1.0, (r.r1 - r.r0) * std::abs(fraction)) * (fraction < 0 ? -1 : 1);
    r.r0 += d;
    r.r1 += d;
    change(r, false);
}

void ZoomState::fit() {
    const double end = std::max(m_endMs, 1e-3);
    change({-0.01 * end, 1.01 * end, -0.5, m_rows - 0.5}, false);
}

void ZoomState::undo() {
    if (m_stack.isEmpty()) return;
    m_range = m_stack.takeLast();
    m_lastGesture.invalidate();
    if (m_stack.isEmpty()) emit canUndoChanged(false);
    emit rangeChanged(m_range);
}

}  // namespace pipelab::ui
