#include "ui/partition_editor.h"

#include <algorithm>
#include <cmath>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QHelpEvent>
#include <QPainter>
#include <QResizeEvent>
#include <QWheelEvent>
#include <QToolButton>
#include <QToolTip>

#include "ui/experiment_doc.h"
#include "ui/kind_style.h"

namespace pipelab::ui {

namespace {
constexpr int kMargin = 12;
constexpr int kHeaderH = 22;  // stage labels above the strip
constexpr int kLabelH = 18;   // layer labels under it
constexpr double kGrab = 8;   // pixels either side of a handle that pick it
}  // namespace

int StripGeometry::nearestCut(double x) const {
    return std::clamp(static_cast<int>(std::lround(first + (x - x0) / cellWidth())), 0, nLayers);
}

int StripGeometry::layerAt(double x) const {
    if (x < x0 || x >= x0 + width) return -1;
    return std::clamp(static_cast<int>(std::floor(first + (x - x0) / cellWidth())), 0, nLayers - 1);
}

PartitionEditor::PartitionEditor(ExperimentDoc* doc, QWidget* parent) : QWidget(parent), m_doc(doc) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setToolTip(
        tr("Drag a boundary to move layers between stages.\n"
           "Keyboard: Up/Down pick a boundary, Left/Right move it."));
    connect(doc, &ExperimentDoc::changed, this, &PartitionEditor::refresh);
    m_autoBtn = new QToolButton(this);
    m_autoBtn->setText(tr("Auto"));
    m_autoBtn->setObjectName(QStringLiteral("autoPartitionButton"));
    m_autoBtn->setToolTip(
        tr("Find the boundaries with the shortest predicted step time for this schedule "
           "(measured costs when a profile exists); one undo step"));
    m_autoBtn->setFocusPolicy(Qt::NoFocus);
    connect(m_autoBtn, &QToolButton::clicked, this, &PartitionEditor::autoRequested);
    refresh();
}

void PartitionEditor::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    const QSize hint = m_autoBtn->sizeHint();
    m_autoBtn->setGeometry(width() - hint.width() - 2, 0, hint.width(), std::min(hint.height(), kHeaderH));
}

void PartitionEditor::setMeasuredCosts(const std::vector<double>& costsUs) {
    // paintEvent and the tooltips index the costs by the document's layers: a vector of
    // another length belongs to another model and would be read out of bounds.
    if (costsUs.size() == m_costs.size())
        m_measured = costsUs;
    else
        m_measured.clear();
    update();
}

void PartitionEditor::refresh() {
    const RunConfig& cfg = m_doc->config();
    m_names.clear();
    m_layers = m_doc->layers();
    for (const Layer& l : m_layers) {
        if (l.kind == LayerKind::Embedding)
            m_names.push_back(QStringLiteral("emb"));
        else if (l.kind == LayerKind::Head)
            m_names.push_back(QStringLiteral("head"));
        else
            m_names.push_back(QString::number(l.index));
    }
    m_costs = m_doc->layerCostsUs();
    if (m_measured.size() != m_costs.size()) m_measured.clear();
    m_cuts = m_doc->effectiveCuts();
    m_stages = std::max(cfg.pipeline.stages, 1);
    m_chunkRank = chunk_placement(cfg.pipeline.schedule, m_stages, std::max(cfg.pipeline.chunks, 1));
    m_selected = std::clamp(m_selected, 0, std::max(0, static_cast<int>(m_cuts.size()) - 1));
    setLayerView(m_first, m_shown);  // re-clamp to the (maybe new) layer count; updates
}

StripGeometry PartitionEditor::geometry() const {
    return StripGeometry{std::max(static_cast<int>(m_names.size()), 1), static_cast<double>(kMargin),
                         std::max(1.0, static_cast<double>(width() - 2 * kMargin)), m_first, m_shown};
}

void PartitionEditor::setLayerView(double first, double shown) {
    const double n = std::max(static_cast<double>(m_names.size()), 1.0);
    shown = shown <= 0 ? n : std::clamp(shown, std::min(4.0, n), n);  // at least 4 layers across
    m_shown = shown >= n ? 0 : shown;
    m_first = m_shown > 0 ? std::clamp(first, 0.0, n - shown) : 0;
    update();
}

void PartitionEditor::wheelEvent(QWheelEvent* event) {
    const double notches = event->angleDelta().y() / 120.0;
    const double shown = layersShown();
    if (event->modifiers() & Qt::ControlModifier) {
        const double at =
            m_first + (event->position().x() - kMargin) / geometry().cellWidth();  // layer under the cursor
        const double f = std::pow(0.8, notches);
        setLayerView(at - (at - m_first) * f, shown * f);
    } else {
        setLayerView(m_first - notches * std::max(1.0, shown / 8), shown);
    }
    event->accept();
}

QPoint PartitionEditor::cutPos(int cut) const {
    const int stripTop = kHeaderH, stripBottom = height() - kLabelH;
    return QPoint(static_cast<int>(std::lround(geometry().cutToX(cut))), (stripTop + stripBottom) / 2);
}

QPoint PartitionEditor::boundaryPos(int boundary) const { return cutPos(m_cuts[static_cast<std::size_t>(boundary)]); }

void PartitionEditor::setSelectedBoundary(int b) {
    m_selected = std::clamp(b, 0, std::max(0, static_cast<int>(m_cuts.size()) - 1));
    update();
}

// The schedule's placement: looped (v = 1: identity) or V for zb-v and dualpipev.
int PartitionEditor::stageOfChunk(int chunk) const {
    return chunk >= 0 && chunk < static_cast<int>(m_chunkRank.size()) ? m_chunkRank[static_cast<std::size_t>(chunk)]
                                                                      : chunk % m_stages;
}

int PartitionEditor::boundaryNear(double x) const {
    const StripGeometry g = geometry();
    int best = -1;
    double bestD = kGrab;
    for (std::size_t b = 0; b < m_cuts.size(); ++b) {
        const double d = std::abs(g.cutToX(m_cuts[b]) - x);
        if (d <= bestD) {
            bestD = d;
            best = static_cast<int>(b);
        }
    }
    return best;
}

bool PartitionEditor::moveBoundary(int b, int cut, int mergeId) {
    if (b < 0 || b >= static_cast<int>(m_cuts.size())) return false;
    // Neighbours bound the move: every chunk keeps at least one layer.
    const int lo = (b == 0 ? 0 : m_cuts[static_cast<std::size_t>(b) - 1]) + 1;
    const int hi = (b + 1 == static_cast<int>(m_cuts.size()) ? static_cast<int>(m_names.size())
                                                             : m_cuts[static_cast<std::size_t>(b) + 1]) -
                   1;
    cut = std::clamp(cut, lo, hi);
    if (cut == m_cuts[static_cast<std::size_t>(b)]) return false;
    std::vector<int> next = m_cuts;
    next[static_cast<std::size_t>(b)] = cut;
    RunConfig cfg = m_doc->config();
    cfg.pipeline.boundaries = next;
    m_doc->edit(cfg, tr("Move boundary %1").arg(b + 1), mergeId);
    return true;
}

void PartitionEditor::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    const int b = boundaryNear(event->position().x());
    if (b < 0) return;
    m_dragging = b;
    m_selected = b;
    m_dragMergeId = m_doc->newMergeId();
    setCursor(Qt::SplitHCursor);
    update();
}

void PartitionEditor::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragging < 0) {
        setCursor(boundaryNear(event->position().x()) >= 0 ? Qt::SplitHCursor : Qt::ArrowCursor);
        return;
    }
    moveBoundary(m_dragging, geometry().nearestCut(event->position().x()), m_dragMergeId);
}

void PartitionEditor::mouseReleaseEvent(QMouseEvent* event) {
    if (m_dragging < 0 || event->button() != Qt::LeftButton) return;
    moveBoundary(m_dragging, geometry().nearestCut(event->position().x()), m_dragMergeId);
    m_dragging = -1;
    unsetCursor();
    emit editFinished();
}

void PartitionEditor::keyPressEvent(QKeyEvent* event) {
    if (m_cuts.empty()) return QWidget::keyPressEvent(event);
    switch (event->key()) {
    case Qt::Key_Up: setSelectedBoundary(m_selected - 1); return;
    case Qt::Key_Down: setSelectedBoundary(m_selected + 1); return;
    case Qt::Key_Left:
    case Qt::Key_Right: {
        const int delta = event->key() == Qt::Key_Left ? -1 : 1;
        if (moveBoundary(m_selected, m_cuts[static_cast<std::size_t>(m_selected)] + delta, 0)) emit editFinished();
        return;
    }
    case Qt::Key_Plus:
    case Qt::Key_Equal:
    case Qt::Key_Minus: {
        const double at = m_cuts[static_cast<std::size_t>(m_selected)];
        const double f = event->key() == Qt::Key_Minus ? 1.25 : 0.8;
        setLayerView(at - (at - m_first) * f, layersShown() * f);
        return;
    }
    case Qt::Key_0: setLayerView(0, 0); return;
    default: QWidget::keyPressEvent(event);
    }
}

bool PartitionEditor::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    const auto* help = static_cast<QHelpEvent*>(event);
    const int l = geometry().layerAt(help->pos().x());
    if (l < 0 || l >= static_cast<int>(m_layers.size())) {
        QToolTip::showText(help->globalPos(), toolTip(), this);
        return true;
    }
    const Layer& layer = m_layers[static_cast<std::size_t>(l)];
    const std::vector<double>& costs = m_measured.empty() ? m_costs : m_measured;
    int chunk = 0;
    while (chunk < static_cast<int>(m_cuts.size()) && l >= m_cuts[static_cast<std::size_t>(chunk)]) ++chunk;
    QToolTip::showText(
        help->globalPos(),
        tr("<b>%1</b> (layer %2)<br>stage %3, chunk %4<br>F+B %5 per microbatch (%6)<br>"
           "%7 parameters, %8 activations per microbatch")
            .arg(QString::fromStdString(layer.name))
            .arg(l)
            .arg(stageOfChunk(chunk))
            .arg(chunk)
            .arg(formatMs(costs[static_cast<std::size_t>(l)]), m_measured.empty() ? tr("cost model") : tr("measured"))
            .arg(layer.params)
            .arg(formatMiB(static_cast<double>(layer.activation_bytes))),
        this);
    return true;
}

void PartitionEditor::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    const QPalette pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));
    if (m_names.empty()) return;
    p.setClipRect(QRect(kMargin / 2, 0, width() - kMargin, height()));  // zoomed: layers off the strip
    const StripGeometry g = geometry();
    const int top = kHeaderH, bottom = height() - kLabelH;
    const std::vector<double>& costs = m_measured.empty() ? m_costs : m_measured;
    // Over measured bars, the cost model's per layer as an outline, scaled to the same
    // total: where the two disagree the model misjudges that layer.
    std::vector<double> model;
    if (!m_measured.empty()) {
        double sumMeasured = 0, sumModel = 0;
        for (double c : m_measured) sumMeasured += c;
        for (double c : m_costs) sumModel += c;
        for (double c : m_costs) model.push_back(sumModel > 0 ? c * sumMeasured / sumModel : 0.0);
    }
    double maxCost = std::max(1e-9, *std::max_element(costs.begin(), costs.end()));
    if (!model.empty()) maxCost = std::max(maxCost, *std::max_element(model.begin(), model.end()));
    const QFontMetrics fm(font());
    const bool dark = isDark(pal.color(QPalette::Base));

    // Chunk c = layers [bounds[c], bounds[c+1]).
    std::vector<int> bounds{0};
    bounds.insert(bounds.end(), m_cuts.begin(), m_cuts.end());
    bounds.push_back(static_cast<int>(m_names.size()));
    const int nChunks = static_cast<int>(bounds.size()) - 1;
    for (int c = 0; c < nChunks; ++c) {
        const int stage = stageOfChunk(c);
        const QColor col = rankColor(stage);
        const double xa = g.cutToX(bounds[static_cast<std::size_t>(c)]);
        const double xb = g.cutToX(bounds[static_cast<std::size_t>(c) + 1]);
        QColor band = col;
        band.setAlpha(dark ? 70 : 45);
        p.fillRect(QRectF(xa, top, xb - xa, bottom - top), band);
        double sum = 0;
        for (int l = bounds[static_cast<std::size_t>(c)]; l < bounds[static_cast<std::size_t>(c) + 1]; ++l)
            sum += costs[static_cast<std::size_t>(l)];
        // Longest header that fits: with the cost, without it, the bare number. The stage
        // number is what a narrow header (p >= 8) must keep; the cost is in the tooltip.
        const QString name = nChunks > m_stages ? tr("S%1.c%2").arg(stage).arg(c) : tr("stage %1").arg(stage);
        const QString bare = nChunks > m_stages ? tr("%1.%2").arg(stage).arg(c) : QString::number(stage);
        const int room = static_cast<int>(xb - xa) - 4;
        QString shown = bare;
        for (const QString& head : {tr("%1 \u00b7 %2").arg(name, formatMs(sum)), name})
            if (fm.horizontalAdvance(head) <= room) {
                shown = head;
                break;
            }
        if (fm.horizontalAdvance(shown) > room) shown = fm.elidedText(shown, Qt::ElideRight, room);
        p.setPen(pal.color(QPalette::Text));
        p.drawText(QRectF(xa, 0, xb - xa, kHeaderH), Qt::AlignCenter, shown);
        for (int l = bounds[static_cast<std::size_t>(c)]; l < bounds[static_cast<std::size_t>(c) + 1]; ++l) {
            const double x = g.cutToX(l);
            const double h = (bottom - top - 6) * costs[static_cast<std::size_t>(l)] / maxCost;
            p.fillRect(QRectF(x + g.cellWidth() * 0.15, bottom - 3 - h, g.cellWidth() * 0.7, h), col);
            if (!model.empty()) {
                const double hm = (bottom - top - 6) * model[static_cast<std::size_t>(l)] / maxCost;
                p.setPen(QPen(pal.color(QPalette::Text), 1, Qt::DashLine));
                p.setBrush(Qt::NoBrush);
                p.drawRect(QRectF(x + g.cellWidth() * 0.1, bottom - 3 - hm, g.cellWidth() * 0.8, hm));
                p.setPen(pal.color(QPalette::Text));
            }
            if (fm.horizontalAdvance(m_names[static_cast<std::size_t>(l)]) < g.cellWidth())
                p.drawText(QRectF(x, bottom, g.cellWidth(), kLabelH), Qt::AlignCenter,
                           m_names[static_cast<std::size_t>(l)]);
        }
    }
    // Boundary handles; the selected one is thicker and shows focus.
    for (std::size_t b = 0; b < m_cuts.size(); ++b) {
        const double x = g.cutToX(m_cuts[b]);
        const bool sel = static_cast<int>(b) == m_selected;
        const QColor c = sel && hasFocus() ? pal.color(QPalette::Highlight) : pal.color(QPalette::Text);
        p.fillRect(QRectF(x - (sel ? 2 : 1), top - 2, sel ? 4 : 2, bottom - top + 4), c);
        p.fillRect(QRectF(x - 4, (top + bottom) / 2.0 - 9, 8, 18), c);
    }
}

}  // namespace pipelab::ui
