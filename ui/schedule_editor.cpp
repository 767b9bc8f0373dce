#include "ui/schedule_editor.h"

#include <algorithm>

#include <QAction>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSplitter>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/kind_style.h"
#include "ui/run_controller.h"
#include "ui/schedule_edit_model.h"
#include "ui/schedule_edit_view.h"
#include "ui/timeline_chart.h"
#include "ui/wait_overlay.h"

namespace pipelab::ui {

ScheduleEditor::ScheduleEditor(QWidget* parent)
    : QWidget(parent), m_model(new ScheduleEditModel(this)), m_view(new ScheduleEditView(m_model, this)),
      m_chart(new TimelineChart(this)), m_controller(new RunController(this)), m_message(new QLabel(this)) {
    auto* bar = new QHBoxLayout;
    auto makeAction = [&](const QString& text, const QKeySequence& key, auto slot) {
        auto* act = new QAction(text, this);
        act->setShortcut(key);
        act->setShortcutContext(Qt::WindowShortcut);  // also from the Explain menu and other tabs
        if (!key.isEmpty())
            act->setToolTip(QStringLiteral("%1 (%2)").arg(text, key.toString(QKeySequence::NativeText)));
        connect(act, &QAction::triggered, this, slot);
        if (!key.isEmpty()) this->addAction(act);
        auto* btn = new QToolButton(this);
        btn->setDefaultAction(act);
        bar->addWidget(btn);
        m_actions << act;
        return act;
    };
    makeAction(tr("Start from experiment"), QKeySequence(tr("Ctrl+Shift+G")), [this] { startFromExperiment(); });
    // Undo/redo keys go to the rows (ScheduleEditView): a second Ctrl+Z shortcut here
    // would be ambiguous with the window's.
    QAction* undo =
        makeAction(tr("Undo move (Ctrl+Z on the rows)"), QKeySequence(), [this] { m_model->undoStack()->undo(); });
    QAction* redo =
        makeAction(tr("Redo move (Ctrl+Shift+Z)"), QKeySequence(), [this] { m_model->undoStack()->redo(); });
    connect(m_model->undoStack(), &QUndoStack::canUndoChanged, undo, &QAction::setEnabled);
    connect(m_model->undoStack(), &QUndoStack::canRedoChanged, redo, &QAction::setEnabled);
    undo->setEnabled(false);
    redo->setEnabled(false);
    makeAction(tr("Save schedule\u2026"), QKeySequence(tr("Ctrl+Alt+S")), [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Save schedule"), QString(), tr("Schedule JSON (*.json)"));
        if (!path.isEmpty()) saveSchedule(path);
    });
    makeAction(tr("Load schedule\u2026"), QKeySequence(tr("Ctrl+Alt+O")), [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Load schedule"), QString(), tr("Schedule JSON (*.json)"));
        if (!path.isEmpty()) loadSchedule(path);
    });
    makeAction(tr("Run on CPU"), QKeySequence(tr("Ctrl+Alt+R")), [this] { runOn(QStringLiteral("cpu")); });
    bar->addStretch(1);
    auto* help = new QLabel(
        tr("Drag an action along its row, or select it (arrow keys) and press Shift+\u2190/\u2192 to swap it "
           "with a neighbour; Ctrl+Z / Ctrl+Shift+Z undo and redo. Every move is checked by the validator."),
        this);
    help->setWordWrap(true);

    auto* scroll = new QScrollArea(this);
    scroll->setWidget(m_view);
    scroll->setWidgetResizable(true);
    scroll->setFocusProxy(m_view);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chart->setTitle(tr("The edited schedule, simulated"));

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(scroll);
    split->addWidget(m_chart);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 4, 0, 0);
    lay->addLayout(bar);
    lay->addWidget(help);
    lay->addWidget(m_message);
    lay->addWidget(split, 1);

    // All stages' rows in view (up to a limit; then the area scrolls).
    connect(m_model, &ScheduleEditModel::changed, scroll,
            [this, scroll] { scroll->setMinimumHeight(std::min(m_view->sizeHint().height() + 4, 320)); });
    connect(m_model, &ScheduleEditModel::changed, this, [this] {
        if (m_model->hasSchedule()) runOn(QStringLiteral("sim"));
    });
    // The selected action's block in the Gantt below says why it waits.
    connect(m_view, &ScheduleEditView::selectionChanged, this, &ScheduleEditor::focusSelectedBlock);
    connect(m_model, &ScheduleEditModel::refused, this,
            [this](int, int, const QString& why) { showMessage(why, true); });
    connect(m_controller, &RunController::finished, this, [this](quint64, const RunOwner& run) { onFinished(run); });
    connect(m_controller, &RunController::failed, this,
            [this](quint64, const QString& why) { showMessage(why, true); });
    showMessage(tr("Start from the experiment's schedule or load a schedule file."), false);
}

void ScheduleEditor::setExperiment(const RunConfig& cfg) {
    m_cfg = cfg;
    m_haveCfg = true;
}

bool ScheduleEditor::startFromExperiment() {
    if (!m_haveCfg) m_cfg = RunConfig{};
    try {
        const Plan plan = make_plan(m_cfg);
        m_awaitBase = true;
        m_model->setBase(plan.schedule);
        m_view->select(0, 0);
        return true;
    } catch (const std::exception& e) {
        showMessage(tr("The experiment has no schedule to start from: %1").arg(QString::fromUtf8(e.what())), true);
        return false;
    }
}

bool ScheduleEditor::saveSchedule(const QString& path) {
    QString error;
    if (!m_model->save(path, &error)) {
        showMessage(error, true);
        return false;
    }
    showMessage(tr("Saved to %1; check it with: pipelab-cli validate --schedule-file %1").arg(path), false);
    return true;
}

bool ScheduleEditor::loadSchedule(const QString& path) {
    QString error;
    m_awaitBase = true;
    if (!m_model->load(path, &error)) {
        m_awaitBase = false;
        showMessage(error, true);
        return false;
    }
    m_view->select(0, 0);
    return true;
}

void ScheduleEditor::runOn(const QString& backend) {
    if (!m_model->hasSchedule()) return showMessage(tr("No schedule to run yet."), true);
    RunConfig cfg = m_cfg;
    cfg.backend = backend.toStdString();
    if (backend == QStringLiteral("sim")) cfg.steps = 1;
    m_controller->start(cfg, m_model->lowered());
    if (backend != QStringLiteral("sim"))
        showMessage(tr("Running the edited schedule on %1\u2026").arg(backend), false);
}

void ScheduleEditor::onFinished(const RunOwner& run) {
    run->source = QStringLiteral("schedule editor");
    if (run->timeline.meta.backend != "sim") emit realRunFinished(run);
    m_last = run;
    m_chart->setTimeline(run->timeline);
    m_chart->waits()->setMovedActions(m_model->movedActions());
    focusSelectedBlock();
    const double step = run->stats.step_time_us;
    if (m_awaitBase) {
        m_baseStepUs = step;
        m_awaitBase = false;
    }
    const int moved = static_cast<int>(m_model->movedActions().size());
    QString text = tr("%1: step %2").arg(QString::fromStdString(run->timeline.meta.backend), formatMs(step));
    if (m_baseStepUs > 0 && run->timeline.meta.backend == "sim")
        text += tr(" (as generated: %1)").arg(formatMs(m_baseStepUs));
    text += tr(" \u00b7 %n action(s) moved", nullptr, moved);
    showMessage(text, false);
    emit runShown(run);
}

void ScheduleEditor::focusSelectedBlock() {
    const int r = m_view->selectedRank(), i = m_view->selectedIndex();
    int event = -1;
    if (r >= 0 && i >= 0 && r < m_model->rankCount() && i < m_model->actionCount(r)) {
        const Action a = m_model->order().ranks[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)];
        const auto& events = m_chart->timeline().events;
        for (std::size_t k = 0; k < events.size() && event < 0; ++k)
            if (Action{events[k].kind, events[k].chunk, events[k].microbatch} == a) event = static_cast<int>(k);
    }
    m_chart->waits()->setFocusEvent(event, true);
}

QString ScheduleEditor::messageText() const { return m_message->text(); }

void ScheduleEditor::showMessage(const QString& text, bool error) {
    m_message->setStyleSheet(error ? QStringLiteral("color: #b00000; font-weight: bold") : QString());
    m_message->setText(text);
}

}  // namespace pipelab::ui
