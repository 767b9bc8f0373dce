#include "ui/experiment_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "core/backend.h"
#include "ui/experiment_doc.h"

namespace pipelab::ui {

namespace {
QSpinBox* spin(QWidget* parent, int lo, int hi, const QString& tip) {
    auto* s = new QSpinBox(parent);
    s->setRange(lo, hi);
    s->setToolTip(tip);
    s->setKeyboardTracking(false);  // one edit per finished number, not per digit
    return s;
}
QComboBox* intCombo(QWidget* parent, std::initializer_list<int> values, const QString& tip) {
    auto* c = new QComboBox(parent);
    for (int v : values) c->addItem(QString::number(v), v);
    c->setEditable(false);
    c->setToolTip(tip);
    return c;
}
void selectData(QComboBox* c, const QVariant& v) {
    int i = c->findData(v);
    if (i < 0) {  // a value from a file that is not a preset: show it anyway
        c->addItem(v.toString(), v);
        i = c->count() - 1;
    }
    c->setCurrentIndex(i);
}
}  // namespace

ExperimentPanel::ExperimentPanel(ExperimentDoc* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc),
      m_layers(spin(this, 1, 256, tr("Transformer blocks (layers 1..L; plus embedding and head)"))),
      m_dModel(intCombo(this, {64, 128, 256, 512, 1024}, tr("Model width d_model"))),
      m_vocab(intCombo(this, {256, 4096, 16384, 50304}, tr("Vocabulary: a large one makes the head heavy"))),
      m_stages(spin(this, 1, 1024, tr("p: pipeline ranks"))),
      m_micro(spin(this, 1, 65536, tr("m: microbatches per step"))),
      m_chunks(spin(this, 1, 64, tr("v: model chunks per rank (interleaved needs >= 2)"))),
      m_schedule(new QComboBox(this)), m_backend(new QComboBox(this)),
      m_steps(spin(this, 1, 10000, tr("Training steps (real backends); the last step is shown"))),
      m_run(new QPushButton(tr("Run"), this)), m_cancel(new QPushButton(tr("Cancel"), this)),
      m_rerun(new QCheckBox(tr("Rerun on change"), this)), m_progress(new QProgressBar(this)),
      m_status(new QLabel(this)) {
    for (int k = 0; k < static_cast<int>(ScheduleKind::NUM_SCHEDULES); ++k)
        m_schedule->addItem(QString::fromUtf8(to_string(static_cast<ScheduleKind>(k)).data()), k);
    // Unavailable backends stay visible, greyed, with the reason as tooltip.
    auto* model = new QStandardItemModel(m_backend);
    for (const BackendInfo& b : list_backends()) {
        auto* item = new QStandardItem(QString::fromStdString(b.label));
        item->setData(QString::fromStdString(b.name), Qt::UserRole);
        if (!b.available) {
            item->setEnabled(false);
            item->setToolTip(QString::fromStdString(b.why_not));
            item->setText(item->text() + tr(" (unavailable)"));
        }
        model->appendRow(item);
    }
    m_backend->setModel(model);
    m_run->setToolTip(tr("Run the experiment (Ctrl+R)"));
    m_cancel->setToolTip(tr("Cancel the running experiment"));
    m_rerun->setToolTip(tr("Run again whenever a setting changes"));
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(8);
    m_status->setWordWrap(true);

    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("Blocks L"), m_layers);
    form->addRow(tr("d_model"), m_dModel);
    form->addRow(tr("Vocabulary"), m_vocab);
    form->addRow(tr("Stages p"), m_stages);
    form->addRow(tr("Microbatches m"), m_micro);
    form->addRow(tr("Chunks v"), m_chunks);
    form->addRow(tr("Schedule"), m_schedule);
    form->addRow(tr("Backend"), m_backend);
    form->addRow(tr("Steps"), m_steps);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_run);
    buttons->addWidget(m_cancel);
    auto* lay = new QVBoxLayout(this);
    lay->addLayout(form);
    lay->addLayout(buttons);
    lay->addWidget(m_rerun);
    lay->addWidget(m_progress);
    lay->addWidget(m_status);
    lay->addStretch(1);

    for (QSpinBox* s : {m_layers, m_stages, m_micro, m_chunks, m_steps})
        connect(s, &QSpinBox::valueChanged, this,
                [this, s] { commit(tr("Change %1").arg(s->toolTip().section(':', 0, 0))); });
    for (QComboBox* c : {m_dModel, m_vocab, m_schedule, m_backend})
        connect(c, &QComboBox::currentIndexChanged, this,
                [this, c] { commit(tr("Change %1").arg(c->toolTip().section(':', 0, 0))); });
    connect(m_run, &QPushButton::clicked, this, &ExperimentPanel::runRequested);
    connect(m_cancel, &QPushButton::clicked, this, &ExperimentPanel::cancelRequested);
    connect(m_rerun, &QCheckBox::toggled, this, &ExperimentPanel::rerunOnChangeToggled);
    connect(doc, &ExperimentDoc::changed, this, &ExperimentPanel::refresh);
    setRunning(false);
    refresh();
}

void ExperimentPanel::refresh() {
    m_refreshing = true;
    const RunConfig& c = m_doc->config();
    m_layers->setValue(c.model.layers);
    selectData(m_dModel, c.model.d_model);
    selectData(m_vocab, c.model.vocab);
    m_stages->setValue(c.pipeline.stages);
    m_micro->setValue(c.pipeline.microbatches);
    m_chunks->setValue(c.pipeline.chunks);
    m_schedule->setCurrentIndex(m_schedule->findData(static_cast<int>(c.pipeline.schedule)));
    m_backend->setCurrentIndex(m_backend->findData(QString::fromStdString(c.backend), Qt::UserRole));
    m_steps->setValue(c.steps);
    m_refreshing = false;
}

void ExperimentPanel::commit(const QString& what) {
    if (m_refreshing) return;
    RunConfig c = m_doc->config();
    const int oldChunks = c.pipeline.stages * c.pipeline.chunks, oldLayers = c.model.layers;
    const ScheduleKind oldSchedule = c.pipeline.schedule;
    c.model.layers = m_layers->value();
    c.model.d_model = m_dModel->currentData().toInt();
    c.model.vocab = m_vocab->currentData().toInt();
    c.pipeline.stages = m_stages->value();
    c.pipeline.microbatches = m_micro->value();
    c.pipeline.chunks = m_chunks->value();
    c.pipeline.schedule = static_cast<ScheduleKind>(m_schedule->currentData().toInt());
    // Switching to interleaved with v = 1, to a V schedule (v = 2) or to a one-chunk one
    // with v > 1 would be an error at once; adjust v with the schedule (bfs and
    // interleaved-zb take any v). A v typed by hand is left for the run to judge.
    if (c.pipeline.schedule != oldSchedule) {
        const ScheduleKind k = c.pipeline.schedule;
        if (k == ScheduleKind::Interleaved)
            c.pipeline.chunks = std::max(c.pipeline.chunks, 2);
        else if (k != ScheduleKind::LoopedBFS && k != ScheduleKind::InterleavedZB)
            c.pipeline.chunks = default_chunks(k);
    }
    c.backend = m_backend->currentData(Qt::UserRole).toString().toStdString();
    c.steps = m_steps->value();
    // Hand-set boundaries do not fit another chunk or layer count: rebalance.
    if (c.pipeline.stages * c.pipeline.chunks != oldChunks || c.model.layers != oldLayers)
        c.pipeline.boundaries.clear();
    m_doc->edit(c, what);
}

void ExperimentPanel::setRunning(bool running) {
    m_cancel->setEnabled(running);
    m_progress->setRange(0, running ? 0 : 1);  // busy indicator while running
    m_progress->setValue(running ? 0 : 1);
    if (running) m_status->setText(tr("running\u2026"));
}

void ExperimentPanel::setProgress(int step, int steps, const QString& status) {
    m_progress->setRange(0, steps);
    m_progress->setValue(step);
    m_status->setText(tr("step %1 / %2 %3").arg(step).arg(steps).arg(status));
}

bool ExperimentPanel::rerunOnChange() const { return m_rerun->isChecked(); }
void ExperimentPanel::setRerunOnChange(bool on) { m_rerun->setChecked(on); }

}  // namespace pipelab::ui
