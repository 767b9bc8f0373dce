#pragma once
// Schedule mode: edit a schedule by hand and watch what it does. The rows of actions
// (ScheduleEditView) over the Gantt of the edited schedule, rerun on the simulator after
// every legal move, with the moved actions marked. Start from the experiment's generated
// schedule or a schedule file; save the result as the JSON `pipelab-cli validate` reads;
// run it on the CPU backend. Runs happen on the editor's own RunController (a worker
// thread, never the GUI thread).
#include <QWidget>

#include "core/run_config.h"
#include "ui/run_record.h"

class QAction;
class QLabel;

namespace pipelab::ui {

class RunController;
class ScheduleEditModel;
class ScheduleEditView;
class TimelineChart;

class ScheduleEditor : public QWidget {
    Q_OBJECT
public:
    explicit ScheduleEditor(QWidget* parent = nullptr);

    // The experiment whose model, partition and costs the edited schedule runs with.
    void setExperiment(const RunConfig& cfg);
    // The experiment's generated schedule becomes the one edited. False (and the reason
    // in the message line) when the experiment cannot be planned.
    bool startFromExperiment();
    bool saveSchedule(const QString& path);
    bool loadSchedule(const QString& path);
    void runOn(const QString& backend);  // "sim" (live after each move) or "cpu"

    ScheduleEditModel* model() const { return m_model; }
    ScheduleEditView* view() const { return m_view; }
    TimelineChart* chart() const { return m_chart; }
    RunController* controller() const { return m_controller; }
    QString messageText() const;
    RunPtr lastRun() const { return m_last; }
    QList<QAction*> editorActions() const { return m_actions; }

signals:
    void runShown(const pipelab::ui::RunPtr& run);
    // A run on a real backend (not the live simulation): worth keeping in the history.
    void realRunFinished(const pipelab::ui::RunOwner& run);

private:
    void showMessage(const QString& text, bool error);
    void onFinished(const RunOwner& run);
    void focusSelectedBlock();  // the selected action's block in the chart, pinned

    RunConfig m_cfg;
    bool m_haveCfg = false;
    ScheduleEditModel* m_model;
    ScheduleEditView* m_view;
    TimelineChart* m_chart;
    RunController* m_controller;
    QLabel* m_message;
    QList<QAction*> m_actions;
    RunPtr m_last;
    double m_baseStepUs = 0;  // the unedited schedule's simulated step
    bool m_awaitBase = false;
};

}  // namespace pipelab::ui
