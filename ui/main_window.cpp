#include "ui/main_window.h"

#include "core/measured_costs.h"

#include <tuple>

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStatusBar>
#include <QStyleFactory>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/app_settings.h"
#include "ui/auto_partition_job.h"
#include "ui/compare_view.h"
#include "ui/error_banner.h"
#include "ui/experiment_doc.h"
#include "ui/experiment_panel.h"
#include "ui/explain_tools.h"
#include "ui/gantt_plottable.h"
#include "ui/kind_style.h"
#include "ui/partition_editor.h"
#include "ui/run_controller.h"
#include "ui/run_history_model.h"
#include "ui/stats_panel.h"
#include "ui/step_bar.h"
#include "ui/timeline_chart.h"
#include "ui/trace_importer.h"
#include "ui/zoom_state.h"

namespace pipelab::ui {

namespace {
constexpr int kRealRerunDelayMs = 150;  // debounce of reruns on a real (non-sim) backend

// A real run's per-layer costs; none for a simulated one (the cost model is the truth there).
std::vector<double> measuredLayerCosts(const RunRecord& run) {
    if (run.timeline.meta.backend == "sim") return {};
    return measured_layer_costs(run.timeline, run.partition, run.cost);
}
}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_doc(new ExperimentDoc(this)), m_controller(new RunController(this)),
      m_importer(new TraceImporter(this)), m_history(new RunHistoryModel(this)), m_rerunTimer(new QTimer(this)) {
    setObjectName(QStringLiteral("PipeLabMainWindow"));
    m_doc->reset(RunConfig{});
    buildLayout();
    buildActions();
    addExplainTools(this);  // Explain menu, schedule editor tab
    updateEditorTitle();

    // Coalesces the change signals of one gesture (a release that also changed the
    // document, a burst of undos) into one run; scheduleRerun() sets the delay.
    m_rerunTimer->setSingleShot(true);
    connect(m_rerunTimer, &QTimer::timeout, this, &MainWindow::run);

    connect(m_doc, &ExperimentDoc::changed, this, &MainWindow::onDocChanged);
    connect(m_editor, &PartitionEditor::editFinished, this, &MainWindow::scheduleRerun);
    connect(m_panel, &ExperimentPanel::runRequested, this, &MainWindow::run);
    connect(m_panel, &ExperimentPanel::cancelRequested, this, &MainWindow::cancelRun);
    connect(m_panel, &ExperimentPanel::rerunOnChangeToggled, this,
            [](bool on) { settings::rerunOnChange.setValue(on); });
    connect(m_controller, &RunController::runningChanged, this, [this](bool running) {
        m_panel->setRunning(running);
        m_cancelAct->setEnabled(running || m_importer->isBusy());
    });
    connect(m_controller, &RunController::progress, this,
            [this](quint64, int step, int steps, const QString& status) { m_panel->setProgress(step, steps, status); });
    connect(m_controller, &RunController::finished, this, &MainWindow::onFinished);
    connectTraceImporter();
    connect(m_controller, &RunController::failed, this, &MainWindow::onFailed);
    connect(m_controller, &RunController::cancelled, this,
            [this] { statusBar()->showMessage(tr("Run cancelled"), 5000); });

    m_panel->setRerunOnChange(settings::rerunOnChange.value());
    restoreGeometry(settings::windowGeometry.value());
    restoreState(settings::windowState.value());
    if (settings::darkPalette.value()) setDarkPalette(true);
    if (settings::colorBlindSafe.value()) setColorBlindPalette(true);
    updateTitle();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildLayout() {
    m_panel = new ExperimentPanel(m_doc, this);
    m_chart = new TimelineChart(this);
    m_editor = new PartitionEditor(m_doc, this);
    m_stats = new StatsPanel(this);
    m_compare = new CompareView(m_history, this);
    m_stepBar = new StepBar(this);
    m_banner = new ErrorBanner(this);
    m_tabs = new QTabWidget(this);

    m_memoryMode = new QComboBox(this);
    m_memoryMode->addItems(
        {tr("total (dashed: resident)"), tr("activations"), tr("parameters"), tr("gradients"), tr("optimizer")});
    m_memoryMode->setToolTip(tr("What the memory plot shows per stage"));
    m_memoryMode->setCurrentIndex(std::clamp(settings::memoryMode.value(), 0, 4));
    m_chart->setMemoryMode(static_cast<TimelineChart::MemoryMode>(m_memoryMode->currentIndex()));
    connect(m_memoryMode, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_chart->setMemoryMode(static_cast<TimelineChart::MemoryMode>(i));
        settings::memoryMode.setValue(i);
    });
    connect(m_stepBar, &StepBar::revealChanged, m_chart, &TimelineChart::setRevealCount);

    auto* timelineTab = new QWidget(this);
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_stepBar, 1);
    bar->addWidget(new QLabel(tr("Memory:"), this));
    bar->addWidget(m_memoryMode);
    auto* tl = new QVBoxLayout(timelineTab);
    tl->setContentsMargins(0, 4, 0, 0);
    tl->addLayout(bar);
    tl->addWidget(m_chart, 1);
    m_tabs->addTab(timelineTab, tr("Timeline"));
    m_tabs->addTab(m_compare, tr("Compare runs"));

    auto* editorBox = new QWidget(this);
    auto* el = new QVBoxLayout(editorBox);
    el->setContentsMargins(0, 0, 0, 0);
    m_editorTitle = new QLabel(this);
    m_editorTitle->setWordWrap(true);
    el->addWidget(m_editorTitle);
    el->addWidget(m_editor, 1);

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_tabs);
    split->addWidget(editorBox);
    split->setStretchFactor(0, 5);
    split->setStretchFactor(1, 1);
    auto* central = new QWidget(this);
    auto* cl = new QVBoxLayout(central);
    cl->setContentsMargins(4, 4, 4, 4);
    cl->addWidget(m_banner);
    cl->addWidget(split, 1);
    setCentralWidget(central);

    auto* left = new QDockWidget(tr("Experiment"), this);
    left->setObjectName(QStringLiteral("experimentDock"));
    left->setWidget(m_panel);
    addDockWidget(Qt::LeftDockWidgetArea, left);

    auto* right = new QDockWidget(tr("Statistics"), this);
    right->setObjectName(QStringLiteral("statsDock"));
    right->setWidget(m_stats);
    addDockWidget(Qt::RightDockWidgetArea, right);

    m_historyView = new QTableView(this);
    m_historyView->setModel(m_history);
    m_historyView->verticalHeader()->hide();
    // Numbers first, sized to their contents so "1234.56 ms" is never cut; the label
    // last, taking what is left and elided at its end (its tooltip has it in full).
    // Sized explicitly per new row: ResizeToContents does not re-measure a row that
    // arrives after the view was laid out (a CPU run), leaving "5…".
    QHeaderView* hh = m_historyView->horizontalHeader();
    hh->setSectionResizeMode(QHeaderView::Interactive);
    hh->moveSection(hh->visualIndex(RunHistoryModel::Label), RunHistoryModel::NUM_COLUMNS - 1);
    hh->setSectionResizeMode(RunHistoryModel::Label, QHeaderView::Stretch);
    auto fitNumbers = [this] {
        for (int c = 0; c < RunHistoryModel::NUM_COLUMNS; ++c)
            if (c != RunHistoryModel::Label) m_historyView->resizeColumnToContents(c);
    };
    fitNumbers();
    connect(m_history, &QAbstractItemModel::rowsInserted, m_historyView, fitNumbers, Qt::QueuedConnection);
    m_historyView->setTextElideMode(Qt::ElideRight);
    m_historyView->setWordWrap(false);
    m_historyView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_historyView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_historyView->setToolTip(tr("Double-click: show the run. Select two and press Compare."));
    connect(m_historyView, &QTableView::doubleClicked, this,
            [this](const QModelIndex& i) { showRun(m_history->run(i.row())); });
    auto* compareBtn = new QPushButton(tr("Compare selected"), this);
    connect(compareBtn, &QPushButton::clicked, this, [this] {
        const QModelIndexList rows = m_historyView->selectionModel()->selectedRows();
        if (rows.size() == 2)
            compareRuns(rows[0].row(), rows[1].row());
        else
            m_banner->showError(tr("Select exactly two runs in the history to compare them."));
    });
    auto* histBox = new QWidget(this);
    auto* hl = new QVBoxLayout(histBox);
    hl->addWidget(m_historyView, 1);
    hl->addWidget(compareBtn);
    auto* hist = new QDockWidget(tr("Run history"), this);
    hist->setObjectName(QStringLiteral("historyDock"));
    hist->setWidget(histBox);
    addDockWidget(Qt::RightDockWidgetArea, hist);
    // Applied once the window has its size (a saved state overrides it later).
    QTimer::singleShot(0, this, [this, left, right] {
        if (settings::windowState.value().isEmpty()) resizeDocks({left, right}, {220, 380}, Qt::Horizontal);
    });
    statusBar()->showMessage(tr("Ready"));
}

void MainWindow::buildActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open config\u2026"), QKeySequence::Open, this, &MainWindow::openConfigDialog);
    file->addAction(tr("&Save config"), QKeySequence::Save, this, [this] {
        if (m_doc->filePath().isEmpty())
            saveConfigDialog();
        else
            saveConfig(m_doc->filePath());
    });
    file->addAction(tr("Save config &as\u2026"), QKeySequence::SaveAs, this, &MainWindow::saveConfigDialog);
    file->addAction(tr("Open &trace(s)\u2026"), QKeySequence(tr("Ctrl+Shift+O")), this, &MainWindow::openTraceDialog);
    m_saveOrderAct =
        file->addAction(tr("Save imported &order as schedule\u2026"), this, &MainWindow::saveImportedOrderDialog);
    m_saveOrderAct->setEnabled(false);
    m_stepAct = file->addAction(tr("Imported &step\u2026"), this, &MainWindow::chooseImportedStepDialog);
    m_stepAct->setEnabled(false);
    m_recentMenu = file->addMenu(tr("Recent files"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(tr("&Export charts (PNG, SVG, PDF)\u2026"), QKeySequence(tr("Ctrl+E")), this,
                    &MainWindow::exportChartsDialog);
    file->addAction(tr("Export run as Chrome &trace\u2026"), QKeySequence(tr("Ctrl+Shift+E")), this,
                    &MainWindow::exportTraceDialog);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_doc->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence(tr("Ctrl+Z")));
    QAction* redo = m_doc->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence(tr("Ctrl+Shift+Z")), QKeySequence(tr("Ctrl+Y"))});
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
    m_runAct = runMenu->addAction(tr("&Run"), QKeySequence(tr("Ctrl+R")), this, &MainWindow::run);
    m_cancelAct = runMenu->addAction(tr("&Cancel"), QKeySequence(Qt::Key_Escape), this, &MainWindow::cancelRun);
    m_cancelAct->setEnabled(false);
    buildCalibrationActions(runMenu);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    addZoomActions(view);
    view->addAction(tr("&Play step-through"), QKeySequence(tr("Ctrl+P")), this,
                    [this] { m_stepBar->setPlaying(!m_stepBar->isPlaying()); });
    m_darkAct = view->addAction(tr("&Dark palette"));
    m_darkAct->setCheckable(true);
    connect(m_darkAct, &QAction::toggled, this, [this](bool on) {
        setDarkPalette(on);
        settings::darkPalette.setValue(on);
    });
    m_colorBlindAct = view->addAction(tr("&Colour-blind-safe palette"));
    m_colorBlindAct->setObjectName(QStringLiteral("colorBlindAction"));
    m_colorBlindAct->setCheckable(true);
    m_colorBlindAct->setToolTip(tr("Kind colours that stay apart under red-green colour blindness"));
    connect(m_colorBlindAct, &QAction::toggled, this, [this](bool on) {
        setColorBlindPalette(on);
        settings::colorBlindSafe.setValue(on);
    });

    QToolBar* tb = addToolBar(tr("Main"));
    tb->setObjectName(QStringLiteral("mainToolbar"));
    tb->addAction(m_runAct);
    tb->addAction(m_cancelAct);
    tb->addSeparator();
    tb->addAction(undo);
    tb->addAction(redo);
}

ZoomState* MainWindow::currentZoom() const {
    return m_tabs->currentWidget() == m_compare ? m_compare->zoomState() : m_chart->zoomState();
}

void MainWindow::addZoomActions(QMenu* view) {
    // The tab on show owns the zoom: one menu entry (and shortcut) per zoom action that
    // forwards to the current tab's ZoomState, so the keys work on either tab.
    const QList<QAction*> mine = m_chart->zoomState()->actions();
    for (int i = 0; i < mine.size(); ++i) {
        QAction* a = view->addAction(mine[i]->text());
        a->setShortcuts(mine[i]->shortcuts());
        a->setToolTip(mine[i]->toolTip());
        connect(a, &QAction::triggered, this, [this, i] { currentZoom()->actions().at(i)->trigger(); });
        if (i == 3 || i == 7) view->addSeparator();
    }
    view->addSeparator();
}

void MainWindow::setDarkPalette(bool dark) {
    if (m_darkAct && m_darkAct->isChecked() != dark) {
        m_darkAct->blockSignals(true);
        m_darkAct->setChecked(dark);
        m_darkAct->blockSignals(false);
    }
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette pal = QApplication::style()->standardPalette();
    if (dark) {
        pal.setColor(QPalette::Window, QColor(37, 37, 40));
        pal.setColor(QPalette::WindowText, QColor(230, 230, 230));
        pal.setColor(QPalette::Base, QColor(24, 24, 27));
        pal.setColor(QPalette::AlternateBase, QColor(45, 45, 50));
        pal.setColor(QPalette::Text, QColor(230, 230, 230));
        pal.setColor(QPalette::Button, QColor(50, 50, 55));
        pal.setColor(QPalette::ButtonText, QColor(230, 230, 230));
        pal.setColor(QPalette::ToolTipBase, QColor(50, 50, 55));
        pal.setColor(QPalette::ToolTipText, QColor(230, 230, 230));
        pal.setColor(QPalette::Highlight, QColor(59, 130, 246));
        pal.setColor(QPalette::HighlightedText, Qt::white);
        pal.setColor(QPalette::Mid, QColor(90, 90, 95));
        pal.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
        pal.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
    }
    QApplication::setPalette(pal);
}

void MainWindow::setColorBlindPalette(bool on) {
    if (m_colorBlindAct && m_colorBlindAct->isChecked() != on) {
        const QSignalBlocker block(m_colorBlindAct);
        m_colorBlindAct->setChecked(on);
    }
    setColorBlindSafe(on);
    // The charts rebuild legends and redraw on a palette change, as for dark mode.
    for (TimelineChart* c : findChildren<TimelineChart*>()) {
        QEvent change(QEvent::PaletteChange);
        QCoreApplication::sendEvent(c, &change);
    }
    for (QWidget* w : findChildren<QWidget*>()) w->update();
}

void MainWindow::updateMeasuredCosts() {
    // The editor draws the CURRENT document's layers: a run of another model or another
    // partition (an older run from the history, or the document edited since) has costs
    // for other layers, so the cost model stands in.
    const bool matches = m_current && m_current->hasConfig && m_current->config.model == m_doc->config().model &&
                         m_current->partition.cuts() == m_doc->effectiveCuts();
    std::vector<double> measured = matches ? measuredLayerCosts(*m_current) : std::vector<double>{};
    if (measured.empty())
        if (const auto prof = m_doc->matchingProfile())  // a profile measured every layer
            for (const LayerProfile& l : prof->layers)
                measured.push_back(l.f.median_us + l.i.median_us + l.w.median_us);
    m_editor->setMeasuredCosts(measured);
    updateEditorTitle();
}

void MainWindow::onDocChanged() {
    updateTitle();
    updateMeasuredCosts();
    // During a drag the document follows the mouse; the run waits for the release.
    if (m_panel->rerunOnChange() && !m_editor->isDragging()) scheduleRerun();
}

void MainWindow::scheduleRerun() {
    // The simulator answers in milliseconds: rerun at once. A real backend trains for
    // seconds; held arrow keys repeat ~30 times a second, so wait for a pause in the edits
    // instead of starting (and cancelling) a trainer per key repeat.
    m_rerunTimer->start(m_doc->config().backend == "sim" ? 0 : kRealRerunDelayMs);
}

void MainWindow::run() {
    m_rerunTimer->stop();
    m_banner->clear();
    m_controller->start(m_doc->config());
    statusBar()->showMessage(tr("Running\u2026"));
}

// Esc stops whatever works in the background: a run, or a trace being read.
void MainWindow::cancelRun() {
    m_controller->cancel();
    m_importer->cancel();
}

void MainWindow::onFinished(quint64, const RunOwner& run) {
    const RunPtr stored = m_history->add(run);  // shares the record: no copy of its events
    showRun(stored);
    statusBar()->showMessage(tr("%1: step %2, computed in %3 ms")
                                 .arg(stored->label(), formatMs(stored->stats.step_time_us))
                                 .arg(stored->wallMs, 0, 'f', 1));
}

void MainWindow::onFailed(quint64, const QString& message) {
    m_banner->showError(tr("Run failed: %1").arg(message));
    statusBar()->showMessage(tr("Run failed"), 5000);
}

void MainWindow::showRun(const RunPtr& run) {
    if (!run) return;
    m_current = run;
    m_saveOrderAct->setEnabled(run->importedOrder.has_value());
    m_stepAct->setEnabled(run->importSteps.size() > 1);
    m_chart->setTitle(run->label());
    m_chart->setTimeline(run->timeline);
    m_stats->setRun(run.get());
    m_stepBar->setActionCount(static_cast<int>(run->timeline.events.size()));
    updateMeasuredCosts();
    emit runDisplayed(run);
}

void MainWindow::compareRuns(int rowA, int rowB) {
    m_compare->setPair(rowA, rowB);
    m_tabs->setCurrentWidget(m_compare);
}

void MainWindow::updateEditorTitle() {
    m_editorTitle->setText(tr("<b>Partition</b> \u2014 layers by stage; bars = %1 cost per layer (F+B per microbatch). "
                              "Drag a boundary, or click the strip and use \u2191\u2193 \u2190\u2192.")
                               .arg(m_editor->showsMeasured() ? tr("<b>measured</b>") : tr("cost-model")));
}

void MainWindow::updateTitle() {
    const QString name = m_doc->filePath().isEmpty() ? tr("untitled") : QFileInfo(m_doc->filePath()).fileName();
    setWindowTitle(
        tr("%1%2 \u2014 PipeLab").arg(name, m_doc->undoStack()->isClean() ? QString() : QStringLiteral("*")));
}

}  // namespace pipelab::ui
