#include "ui/schedule_edit_view.h"

#include <algorithm>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include "ui/kind_style.h"
#include "ui/schedule_edit_model.h"

namespace pipelab::ui {

namespace {
constexpr int kLabelW = 72, kTop = 8, kRowH = 28, kRowGap = 14, kChipGap = 2;
int chipWidth(const QFontMetrics& fm) { return fm.horizontalAdvance(QStringLiteral("00W00")) + 8; }
int rowTop(int rank) { return kTop + rank * (kRowH + kRowGap); }
// Ctrl+Z; Ctrl+Shift+Z or Ctrl+Y, whatever the platform's key scheme says.
bool isUndoKey(const QKeyEvent* e) {
    return e->matches(QKeySequence::Undo) || (e->key() == Qt::Key_Z && e->modifiers() == Qt::ControlModifier);
}
bool isRedoKey(const QKeyEvent* e) {
    return e->matches(QKeySequence::Redo) || (e->key() == Qt::Key_Y && e->modifiers() == Qt::ControlModifier) ||
           (e->key() == Qt::Key_Z && e->modifiers() == (Qt::ControlModifier | Qt::ShiftModifier));
}
}  // namespace

ScheduleEditView::ScheduleEditView(ScheduleEditModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(false);
    setAccessibleName(tr("Schedule editor: one row of actions per stage"));
    connect(m_model, &ScheduleEditModel::changed, this, [this] {
        m_refusal.clear();
        if (m_rank >= m_model->rankCount()) m_rank = -1;
        if (m_rank >= 0) m_index = std::min(m_index, m_model->actionCount(m_rank) - 1);
        updateGeometry();
        update();
    });
    connect(m_model, &ScheduleEditModel::refused, this, &ScheduleEditView::onRefused);
}

QSize ScheduleEditView::sizeHint() const {
    int widest = 0;
    for (int r = 0; r < m_model->rankCount(); ++r) widest = std::max(widest, m_model->actionCount(r));
    const int w = chipWidth(fontMetrics());
    return QSize(kLabelW + widest * (w + kChipGap) + 260, rowTop(std::max(m_model->rankCount(), 1)) + 2 * kRowH);
}

QRect ScheduleEditView::chipRect(int rank, int index) const {
    const int w = chipWidth(fontMetrics());
    return QRect(kLabelW + index * (w + kChipGap), rowTop(rank), w, kRowH);
}

std::pair<int, int> ScheduleEditView::chipAt(const QPoint& pos) const {
    for (int r = 0; r < m_model->rankCount(); ++r) {
        if (pos.y() < rowTop(r) || pos.y() >= rowTop(r) + kRowH) continue;
        const int w = chipWidth(fontMetrics()) + kChipGap;
        const int i = (pos.x() - kLabelW) / w;
        if (pos.x() >= kLabelW && i < m_model->actionCount(r)) return {r, i};
        return {-1, -1};
    }
    return {-1, -1};
}

int ScheduleEditView::gapAt(int rank, int x) const {
    const int w = chipWidth(fontMetrics()) + kChipGap;
    const int gap = (x - kLabelW + w / 2) / w;
    return std::clamp(gap, 0, m_model->actionCount(rank));
}

void ScheduleEditView::select(int rank, int index) {
    if (rank < 0 || rank >= m_model->rankCount() || m_model->actionCount(rank) == 0) {
        m_rank = m_index = -1;
    } else {
        m_rank = rank;
        m_index = std::clamp(index, 0, m_model->actionCount(rank) - 1);
    }
    emit selectionChanged(m_rank, m_index);
    update();
}

void ScheduleEditView::tryMove(int rank, int from, int to) {
    const QString why = m_model->move(rank, from, to);
    if (why.isEmpty()) select(rank, to);
}

void ScheduleEditView::onRefused(int rank, int index, const QString& reason) {
    m_refusal = reason;
    m_refusalRank = rank;
    m_refusalIndex = index;
    update();
    if (isVisible()) {
        const QRect r = chipRect(rank, index);
        QToolTip::showText(mapToGlobal(r.bottomLeft()), reason, this);
    }
}

void ScheduleEditView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    const Schedule& s = m_model->order();
    const QColor text = palette().color(QPalette::Text);
    if (!m_model->hasSchedule()) {
        p.setPen(text);
        p.drawText(
            rect().adjusted(8, 8, -8, -8), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
            tr("No schedule yet: press \u201cStart from experiment\u201d (Ctrl+Shift+G) or load a schedule file."));
        return;
    }
    for (int r = 0; r < m_model->rankCount(); ++r) {
        p.setPen(text);
        p.drawText(QRect(4, rowTop(r), kLabelW - 8, kRowH), Qt::AlignVCenter | Qt::AlignLeft, tr("stage %1").arg(r));
        const auto& row = s.ranks[static_cast<std::size_t>(r)];
        for (int i = 0; i < static_cast<int>(row.size()); ++i) {
            const Action& a = row[static_cast<std::size_t>(i)];
            int virt = 0;  // which of the rank's chunks: shaded as in the Gantt
            for (int c = 0; c < a.chunk && c < s.n_chunks(); ++c) virt += s.rank_of(c) == r;
            const QColor fill = chunkShade(kindColor(a.kind), virt);
            const QRect chip = chipRect(r, i);
            const bool dragged = r == m_dragRank && i == m_dragFrom && m_dragGap >= 0;
            p.setPen(QPen(fill.darker(150)));
            p.setBrush(dragged ? fill.lighter(150) : fill);
            p.drawRoundedRect(chip.adjusted(0, 0, -1, -1), 3, 3);
            p.setPen(fill.lightnessF() > 0.6 ? Qt::black : Qt::white);
            p.drawText(chip, Qt::AlignCenter, QString::fromStdString(to_string(a)));
            if (m_model->isMoved(a)) {  // the same badge as on the Gantt
                p.setPen(QPen(QColor(0, 150, 220), 2, Qt::DashLine));
                p.setBrush(Qt::NoBrush);
                p.drawRect(chip.adjusted(-1, -1, 0, 0));
                p.setPen(Qt::NoPen);
                p.setBrush(QColor(0, 150, 220));
                p.drawEllipse(QPointF(chip.left() + 4, chip.top() + 4), 3.5, 3.5);
            }
            if (r == m_rank && i == m_index) {
                p.setPen(QPen(palette().color(QPalette::Highlight), 3));
                p.setBrush(Qt::NoBrush);
                p.drawRect(chip.adjusted(-2, -2, 1, 1));
            }
        }
    }
    if (m_dragGap >= 0) {  // where the dragged action would go
        const QRect at = chipRect(m_dragRank, m_dragGap);
        p.setPen(QPen(text, 3));
        p.drawLine(at.left() - 1, at.top() - 3, at.left() - 1, at.bottom() + 3);
    }
    if (!m_refusal.isEmpty() && m_refusalRank >= 0) {
        const QRect chip = chipRect(m_refusalRank, m_refusalIndex);
        const QString msg = m_refusal;
        const QFontMetrics fm = fontMetrics();
        QRect box(chip.left(), chip.bottom() + 2, fm.horizontalAdvance(msg) + 12, fm.height() + 6);
        if (box.right() > width() - 4) box.moveRight(std::max(width() - 4, box.width()));
        p.setPen(QPen(QColor(180, 20, 20)));
        p.setBrush(QColor(255, 235, 235));
        p.drawRoundedRect(box, 4, 4);
        p.setPen(QColor(140, 0, 0));
        p.drawText(box, Qt::AlignCenter, msg);
    }
}

void ScheduleEditView::mousePressEvent(QMouseEvent* event) {
    setFocus(Qt::MouseFocusReason);
    const auto [r, i] = chipAt(event->position().toPoint());
    m_pressPos = event->position().toPoint();
    m_dragRank = r;
    m_dragFrom = i;
    m_dragGap = -1;
    if (r >= 0) select(r, i);
}

void ScheduleEditView::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragRank < 0 || !(event->buttons() & Qt::LeftButton)) return;
    if ((event->position().toPoint() - m_pressPos).manhattanLength() < 4) return;
    m_dragGap = gapAt(m_dragRank, event->position().toPoint().x());
    update();
}

void ScheduleEditView::mouseReleaseEvent(QMouseEvent* event) {
    if (m_dragRank >= 0 && (event->position().toPoint() - m_pressPos).manhattanLength() >= 4) {
        const int gap = gapAt(m_dragRank, event->position().toPoint().x());
        const int to = gap > m_dragFrom ? gap - 1 : gap;  // the gap counts the dragged chip
        const int rank = m_dragRank, from = m_dragFrom;
        m_dragRank = m_dragFrom = m_dragGap = -1;
        if (to != from) tryMove(rank, from, to);
    }
    m_dragRank = m_dragFrom = m_dragGap = -1;
    update();
}

bool ScheduleEditView::event(QEvent* event) {
    // Undo/redo keys belong to this editor while it has focus, not to the window's
    // experiment undo.
    if (event->type() == QEvent::ShortcutOverride) {
        auto* ke = static_cast<QKeyEvent*>(event);
        if (isUndoKey(ke) || isRedoKey(ke)) {
            ke->accept();
            return true;
        }
    }
    return QWidget::event(event);
}

void ScheduleEditView::keyPressEvent(QKeyEvent* event) {
    if (isUndoKey(event)) return m_model->undoStack()->undo();
    if (isRedoKey(event)) return m_model->undoStack()->redo();
    if (!m_model->hasSchedule()) return QWidget::keyPressEvent(event);
    if (m_rank < 0 && (event->key() == Qt::Key_Left || event->key() == Qt::Key_Right || event->key() == Qt::Key_Up ||
                       event->key() == Qt::Key_Down)) {
        return select(0, 0);
    }
    const bool swap = event->modifiers() & (Qt::ShiftModifier | Qt::AltModifier);
    switch (event->key()) {
    case Qt::Key_Left:
        if (swap) {
            if (m_index > 0) tryMove(m_rank, m_index, m_index - 1);
        } else
            select(m_rank, m_index - 1);
        return;
    case Qt::Key_Right:
        if (swap) {
            if (m_index + 1 < m_model->actionCount(m_rank)) tryMove(m_rank, m_index, m_index + 1);
        } else
            select(m_rank, m_index + 1);
        return;
    case Qt::Key_Up: return select(std::max(m_rank - 1, 0), m_index);
    case Qt::Key_Down: return select(std::min(m_rank + 1, m_model->rankCount() - 1), m_index);
    case Qt::Key_Home: return select(m_rank, 0);
    case Qt::Key_End: return select(m_rank, m_model->actionCount(m_rank) - 1);
    default: break;
    }
    QWidget::keyPressEvent(event);
}

}  // namespace pipelab::ui
