#include "ui/stats_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QTransposeProxyModel>
#include <QVBoxLayout>

#include "ui/kind_style.h"
#include "ui/rank_stats_model.h"
#include "ui/run_record.h"

namespace pipelab::ui {

// The statistics table's proxy: the rank model transposed, and in compact mode the
// "stage N" column headers shortened to "N" (the full name stays as the tooltip).
class StatsPanel::CompactTranspose : public QTransposeProxyModel {
public:
    using QTransposeProxyModel::QTransposeProxyModel;
    void setCompact(bool compact) {
        if (compact == m_compact) return;
        m_compact = compact;
        if (columnCount() > 0) emit headerDataChanged(Qt::Horizontal, 0, columnCount() - 1);
    }
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override {
        if (orientation == Qt::Horizontal && role == Qt::ToolTipRole)
            return QTransposeProxyModel::headerData(section, orientation, Qt::DisplayRole);
        if (m_compact && orientation == Qt::Horizontal && role == Qt::DisplayRole) return QString::number(section);
        return QTransposeProxyModel::headerData(section, orientation, role);
    }

private:
    bool m_compact = false;
};

QString bubbleFormulaText(const Stats& st) {
    if (!st.bubble_formula) return QObject::tr("no closed form for %1").arg(QString::fromStdString(st.schedule));
    QString vars = QStringLiteral("p = %1, m = %2").arg(st.stages).arg(st.microbatches);
    if (st.chunks > 1) vars += QStringLiteral(", v = %1").arg(st.chunks);
    return QStringLiteral("%1 with %2 \u2192 %3 %")
        .arg(QString::fromStdString(st.bubble_formula_text), vars)
        .arg(100 * *st.bubble_formula, 0, 'f', 2);
}

QString criticalPathText(const Stats& st) {
    const double total = st.critical_compute_us + st.critical_transfer_us + st.critical_other_us;
    if (total <= 0) return QObject::tr("none (empty step)");
    const auto pct = [total](double us) { return QString::number(100 * us / total, 'f', 1); };
    return QObject::tr("%1 % compute, %2 % transfers, %3 % waiting (gaps and comm overhead)")
        .arg(pct(st.critical_compute_us), pct(st.critical_transfer_us), pct(st.critical_other_us));
}

StatsPanel::StatsPanel(QWidget* parent)
    : QWidget(parent), m_summary(new QLabel(this)), m_table(new QTableView(this)), m_model(new RankStatsModel(this)) {
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Transposed: one column per stage, one row per figure, so a narrow side panel
    // shows every figure without scrolling sideways. Beyond kCompactAbove stages the
    // columns are narrowed (see setRun) so p = 8 still fits the default 380-px dock.
    m_transposed = new CompactTranspose(this);
    m_transposed->setSourceModel(m_model);
    m_table->setModel(m_transposed);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setMinimumSectionSize(8);
    m_normalFont = m_table->font();
    m_table->setSelectionBehavior(QAbstractItemView::SelectColumns);
    connect(m_model, &QAbstractItemModel::modelReset, this,
            [this] { m_table->setRowHidden(RankStatsModel::Rank, true); });
    m_table->setAlternatingRowColors(true);
    auto* lay = new QVBoxLayout(this);
    lay->addWidget(m_summary);
    lay->addWidget(m_table, 1);
    setRun(nullptr);
}

void StatsPanel::setRun(const RunRecord* run) {
    if (!run) {
        m_summary->setText(tr("<i>No run yet. Press Run (Ctrl+R).</i>"));
        m_model->clear();
        return;
    }
    const Stats& st = run->stats;
    const MemoryPeak peak = peakMemory(st);
    QString html = QStringLiteral("<table cellspacing=2>");
    auto row = [&html](const QString& k, const QString& v) {
        html += QStringLiteral("<tr><td><b>%1</b>&nbsp;&nbsp;</td><td>%2</td></tr>").arg(k, v);
    };
    row(tr("step time"),
        QStringLiteral("<span style='font-size:large'><b>%1</b></span>").arg(formatMs(st.step_time_us)));
    row(tr("bubble"), tr("<b>%1 %</b> measured (idle / ranks \u00d7 step)").arg(100 * st.bubble_fraction, 0, 'f', 2));
    row(tr("formula"), bubbleFormulaText(st));
    row(tr("imbalance"), tr("%1 % (slowest stage's busy time over the mean)").arg(100 * st.imbalance, 0, 'f', 1));
    row(tr("critical path"), criticalPathText(st));
    row(tr("peak memory"), tr("%1 on stage %2").arg(formatMiB(peak.bytes)).arg(peak.rank));
    row(tr("backend"), QString::fromStdString(run->timeline.meta.backend) +
                           (run->losses.empty() ? QString() : tr(", loss %1").arg(run->losses.back(), 0, 'f', 4)));
    html += QStringLiteral("</table>");
    m_summary->setText(html);
    // Compact for many stages: a smaller font and bare stage numbers as headers ("stage"
    // is in each header's tooltip): 8 columns of "591.9" fit where "stage 7" would not.
    const bool compact = static_cast<int>(st.ranks.size()) > kCompactAbove;
    m_transposed->setCompact(compact);
    QFont f = m_normalFont;
    if (compact) f.setPointSizeF(f.pointSizeF() * 0.8);
    m_table->setFont(f);
    m_table->horizontalHeader()->setFont(f);
    m_table->verticalHeader()->setFont(f);
    m_model->setRun(st, run->timeline.meta);
}

QString StatsPanel::summaryText() const { return m_summary->text(); }

}  // namespace pipelab::ui
