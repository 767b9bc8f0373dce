#include "ui/compare_view.h"

#include <cmath>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

#include "ui/kind_style.h"
#include "ui/gantt_plottable.h"
#include "ui/run_history_model.h"
#include "ui/timeline_chart.h"
#include "ui/zoom_state.h"

namespace pipelab::ui {

namespace {
QString signedMs(double us) {
    if (std::abs(us) < 0.05) return QStringLiteral("±0");
    return (us > 0 ? QStringLiteral("+") : QString()) + formatMs(us);
}
QString signedPct(double a, double b) {
    if (a == 0 || std::abs(b - a) < 1e-9 * std::abs(a)) return QString();
    return QStringLiteral(" (%1%2 %)").arg(b >= a ? "+" : "").arg(100 * (b - a) / a, 0, 'f', 1);
}
}  // namespace

CompareView::CompareView(RunHistoryModel* history, QWidget* parent)
    : QWidget(parent), m_pickA(new QComboBox(this)), m_pickB(new QComboBox(this)), m_diff(new QLabel(this)),
      m_a(new TimelineChart(this)), m_b(new TimelineChart(this)), m_zoom(new ZoomState(this)), m_history(history) {
    for (QComboBox* c : {m_pickA, m_pickB}) {
        c->setModel(history);
        c->setModelColumn(RunHistoryModel::Label);
        c->setSizeAdjustPolicy(QComboBox::AdjustToContents);
        connect(c, &QComboBox::currentIndexChanged, this, &CompareView::update2);
    }
    m_a->removeLegends(true, true);  // B keeps both: one legend serves the pair
    m_b->removeLegends(false, false);
    m_diff->setTextFormat(Qt::RichText);
    m_diff->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* picks = new QHBoxLayout;
    picks->addWidget(new QLabel(tr("A:"), this));
    picks->addWidget(m_pickA);
    picks->addSpacing(16);
    picks->addWidget(new QLabel(tr("B:"), this));
    picks->addWidget(m_pickB);
    picks->addStretch(1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_a);
    split->addWidget(m_b);
    auto* lay = new QVBoxLayout(this);
    lay->addLayout(picks);
    lay->addWidget(m_diff);
    lay->addWidget(split, 1);
    // One zoom for both, so equal durations have equal widths and zooming either
    // zooms the other.
    m_a->setZoomState(m_zoom);
    m_b->setZoomState(m_zoom);
    connect(history, &QAbstractItemModel::rowsInserted, this, [this] {
        // Default pair: the two newest runs.
        const int n = m_history->count();
        setPair(std::max(0, n - 2), n - 1);
    });
    update2();
}

void CompareView::setPair(int rowA, int rowB) {
    // Both pickers change, but the charts are built once: their own signals would
    // rebuild them after each.
    for (QComboBox* c : {m_pickA, m_pickB}) c->blockSignals(true);
    m_pickA->setCurrentIndex(rowA);
    m_pickB->setCurrentIndex(rowB);
    for (QComboBox* c : {m_pickA, m_pickB}) c->blockSignals(false);
    update2();
}

void CompareView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_stale) rebuild();
}

void CompareView::update2() {
    // Every run adds a history row and moves the pair; building two ~200k-action charts
    // for a tab nobody looks at is wasted: a hidden view builds when it is shown.
    m_stale = true;
    if (isVisible()) rebuild();
}

void CompareView::rebuild() {
    m_stale = false;
    const RunPtr a = m_history->run(m_pickA->currentIndex());
    const RunPtr b = m_history->run(m_pickB->currentIndex());
    if (a) {
        m_a->setTimeline(a->timeline);
        m_a->setTitle(QStringLiteral("A  ") + a->label());
    }
    if (b) {
        m_b->setTimeline(b->timeline);
        m_b->setTitle(QStringLiteral("B  ") + b->label());
    }
    if (!a || !b) {
        m_diff->setText(tr("<i>Run twice (or open traces) to compare two runs.</i>"));
        return;
    }
    const double end = std::max(a->stats.step_time_us, b->stats.step_time_us) / 1000.0;
    m_zoom->setExtent(end, std::max(m_a->gantt()->rowCount(), m_b->gantt()->rowCount()));
    // One memory scale too, or GPipe's climb and 1F1B's plateau would look alike.
    const double top = std::max(m_a->memoryDataMax(), m_b->memoryDataMax());
    m_a->setMemoryTop(top);
    m_b->setMemoryTop(top);
    m_a->refresh();
    m_b->refresh();
    const double pa = RunHistoryModel::peakMemory(*a), pb = RunHistoryModel::peakMemory(*b);
    m_diff->setText(tr("<b>B \u2212 A</b>: step time %1 \u2192 %2 (<b>%3</b>%4) &nbsp;|&nbsp; bubble %5 % \u2192 %6 % "
                       "(<b>%7 pts</b>)"
                       " &nbsp;|&nbsp; peak memory %8 \u2192 %9 (<b>%10</b>%11)")
                        .arg(formatMs(a->stats.step_time_us), formatMs(b->stats.step_time_us),
                             signedMs(b->stats.step_time_us - a->stats.step_time_us),
                             signedPct(a->stats.step_time_us, b->stats.step_time_us))
                        .arg(100 * a->stats.bubble_fraction, 0, 'f', 2)
                        .arg(100 * b->stats.bubble_fraction, 0, 'f', 2)
                        .arg(100 * (b->stats.bubble_fraction - a->stats.bubble_fraction), 0, 'f', 2)
                        .arg(formatMiB(pa), formatMiB(pb), formatMiB(pb - pa), signedPct(pa, pb)));
}

QString CompareView::diffText() const { return m_diff->text(); }

}  // namespace pipelab::ui
