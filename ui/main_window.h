#pragma once
// The desktop app's window: experiment panel (left), Gantt + memory chart with the
// step-through bar, the compare tab, the partition editor (bottom), statistics and run
// history (right), and the non-modal error banner. File operations are public methods
// taking paths (menus only add the file dialogs), so tests drive them without dialogs.
#include <memory>
#include <vector>

#include <QMainWindow>

#include "ui/run_record.h"

class QAction;
class QComboBox;
class QLabel;
class QMenu;
class QTabWidget;
class QTableView;
class QTimer;

namespace pipelab::ui {

class CompareView;
class ErrorBanner;
class ExperimentDoc;
class ExperimentPanel;
class PartitionEditor;
class RunController;
class RunHistoryModel;
class StatsPanel;
class StepBar;
class TraceImporter;
class TimelineChart;
class ProfileRunner;
struct AutoPartitionJob;
class ZoomState;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Files. Each returns false and shows the reason in the banner on failure.
    bool openConfig(const QString& path);
    bool saveConfig(const QString& path);
    bool openTrace(const QString& path);
    // PipeLab traces or one torch.profiler trace per rank (files or folders): imported in
    // the background, the run lands in the history and is shown (traceImported). False
    // when nothing was given.
    bool openTraces(const QStringList& paths);
    // Reads another training step of the shown imported job (in the background, as
    // openTraces); false, with the reason in the banner, when the run is no import or
    // has no such step.
    bool openImportedStep(long long step);
    bool saveImportedOrder(const QString& path);  // the shown import's order as a schedule file
    bool exportCharts(const QString& path, int width = 1600, int height = 1000);
    bool exportTrace(const QString& path);

    void run();
    void cancelRun();
    void showRun(const RunPtr& run);
    void compareRuns(int rowA, int rowB);
    void setDarkPalette(bool dark);
    void setColorBlindPalette(bool on);  // kind colours that survive deuteranopia
    // Calibration (main_window_calib.cpp). Profile the experiment on its backend (cpu
    // when it is the simulator) in the background; the profile stays with the experiment
    // (saved beside its config as NAME.profile.json) and the simulator uses its costs.
    void profileExperiment();
    // The shown real run beside the calibrated simulator's prediction of it, on the
    // Compare tab. False (with a banner) without a real run or a matching profile.
    bool compareWithPrediction();
    // The boundaries with the shortest predicted step time, found in the background and
    // applied as one undo step, then rerun as after a drag.
    void autoPartition();

    RunPtr currentRun() const { return m_current; }
    ExperimentDoc* doc() const { return m_doc; }
    RunController* controller() const { return m_controller; }
    TraceImporter* traceImporter() const { return m_importer; }
    ProfileRunner* profiler() const { return m_profiler; }
    TimelineChart* chart() const { return m_chart; }
    PartitionEditor* partitionEditor() const { return m_editor; }
    ErrorBanner* banner() const { return m_banner; }
    RunHistoryModel* history() const { return m_history; }
    StatsPanel* statsPanel() const { return m_stats; }
    CompareView* compareView() const { return m_compare; }
    StepBar* stepBar() const { return m_stepBar; }
    ExperimentPanel* experimentPanel() const { return m_panel; }
    QTabWidget* tabs() const { return m_tabs; }

signals:
    void runDisplayed(const pipelab::ui::RunPtr& run);
    void traceImported(const pipelab::ui::RunPtr& run);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildActions();
    void addZoomActions(QMenu* view);
    ZoomState* currentZoom() const;  // the zoom of the tab on show
    void buildLayout();
    void connectTraceImporter();
    void onDocChanged();
    void scheduleRerun();
    void onFinished(quint64 job, const RunOwner& run);
    void onFailed(quint64 job, const QString& message);
    bool haveRunToExport();  // false (and says so in the banner) before the first run
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void updateTitle();
    void updateEditorTitle();
    void updateMeasuredCosts();  // the shown run's measured costs, if it matches the document
    void buildCalibrationActions(QMenu* runMenu);
    void loadProfileBeside(const QString& configPath);
    void saveProfileBeside(const QString& configPath);
    void onAutoPartitionFound(quint64 job, const std::vector<int>& cuts, const QString& summary);
    // Menu entry points: a file dialog, then the method above.
    void openConfigDialog();
    void saveConfigDialog();
    void openTraceDialog();
    void saveImportedOrderDialog();
    void chooseImportedStepDialog();
    void exportChartsDialog();
    void exportTraceDialog();

    ExperimentDoc* m_doc;
    RunController* m_controller;
    TraceImporter* m_importer;
    RunHistoryModel* m_history;
    ExperimentPanel* m_panel = nullptr;
    TimelineChart* m_chart = nullptr;
    PartitionEditor* m_editor = nullptr;
    StatsPanel* m_stats = nullptr;
    CompareView* m_compare = nullptr;
    StepBar* m_stepBar = nullptr;
    ErrorBanner* m_banner = nullptr;
    QTabWidget* m_tabs = nullptr;
    QTableView* m_historyView = nullptr;
    QComboBox* m_memoryMode = nullptr;
    QLabel* m_editorTitle = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction* m_runAct = nullptr;
    QAction* m_cancelAct = nullptr;
    QAction* m_darkAct = nullptr;
    QAction* m_colorBlindAct = nullptr;
    QAction* m_saveOrderAct = nullptr;
    QAction* m_stepAct = nullptr;
    QTimer* m_rerunTimer = nullptr;
    RunPtr m_current;
    ProfileRunner* m_profiler = nullptr;
    QAction* m_compareCalibAct = nullptr;
    RunPtr m_predictionOf;  // the real run whose calibrated prediction is being simulated
    std::unique_ptr<AutoPartitionJob> m_autoJob;
    quint64 m_autoJobs = 0;
};

}  // namespace pipelab::ui
