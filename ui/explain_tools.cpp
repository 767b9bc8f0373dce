#include "ui/explain_tools.h"

#include <QAction>
#include <QMenu>
#include <QMenuBar>
#include <QStatusBar>
#include <QTabWidget>

#include "ui/app_settings.h"
#include "ui/experiment_doc.h"
#include "ui/kind_style.h"
#include "ui/main_window.h"
#include "ui/run_history_model.h"
#include "ui/schedule_edit_view.h"
#include "ui/schedule_editor.h"
#include "ui/timeline_chart.h"
#include "ui/wait_overlay.h"

namespace pipelab::ui {

ScheduleEditor* addExplainTools(MainWindow* w) {
    auto* editor = new ScheduleEditor(w);
    editor->setObjectName(QStringLiteral("scheduleEditor"));
    editor->setExperiment(w->doc()->config());
    QObject::connect(w->doc(), &ExperimentDoc::changed, editor,
                     [w, editor] { editor->setExperiment(w->doc()->config()); });
    const int tab = w->tabs()->addTab(editor, QObject::tr("Schedule editor"));
    QObject::connect(editor, &ScheduleEditor::realRunFinished, w, [w](const RunOwner& run) {
        const RunPtr stored = w->history()->add(run);
        w->statusBar()->showMessage(QObject::tr("%1 (edited schedule): step %2, in the run history")
                                        .arg(stored->label(), formatMs(stored->stats.step_time_us)));
    });

    const QList<TimelineChart*> charts{w->chart(), editor->chart()};
    for (TimelineChart* chart : charts)
        QObject::connect(chart->waits(), &WaitOverlay::focusChanged, w, [w, chart](int event) {
            if (event >= 0) w->statusBar()->showMessage(chart->waits()->explain(event));
        });

    QMenu* menu = w->menuBar()->addMenu(QObject::tr("E&xplain"));
    QAction* critical = menu->addAction(QObject::tr("Highlight &critical path"));
    critical->setObjectName(QStringLiteral("criticalPathAction"));
    critical->setShortcut(QKeySequence(QObject::tr("Ctrl+Shift+K")));
    critical->setCheckable(true);
    critical->setToolTip(
        QObject::tr("Outline the chain of actions and transfers with no slack that sets the step time"));
    QObject::connect(critical, &QAction::toggled, w, [charts](bool on) {
        for (TimelineChart* c : charts) c->waits()->setCriticalPathShown(on);
        settings::criticalPath.setValue(on);
    });
    critical->setChecked(settings::criticalPath.value());
    QAction* idle = menu->addAction(QObject::tr("Label &idle causes"));
    idle->setObjectName(QStringLiteral("idleLabelsAction"));
    idle->setShortcut(QKeySequence(QObject::tr("Ctrl+Shift+L")));
    idle->setCheckable(true);
    idle->setChecked(true);  // the overlays start with labels on
    QObject::connect(idle, &QAction::toggled, w, [charts](bool on) {
        for (TimelineChart* c : charts) c->waits()->setIdleLabelsShown(on);
        settings::idleLabels.setValue(on);
    });
    idle->setChecked(settings::idleLabels.value());
    QAction* walk = menu->addAction(QObject::tr("&Why does it wait? (arrow keys walk the blocks)"));
    walk->setShortcut(QKeySequence(QObject::tr("Ctrl+Shift+W")));
    QObject::connect(walk, &QAction::triggered, w, [w] {
        w->tabs()->setCurrentIndex(0);
        w->chart()->setFocus(Qt::ShortcutFocusReason);
        if (w->chart()->waits()->focusEvent() < 0) w->chart()->waits()->handleKey(Qt::Key_Right);
    });
    menu->addSeparator();
    QAction* edit = menu->addAction(QObject::tr("&Schedule editor"));
    edit->setShortcut(QKeySequence(QObject::tr("Ctrl+Shift+M")));
    QObject::connect(edit, &QAction::triggered, w, [w, editor, tab] {
        w->tabs()->setCurrentIndex(tab);
        if (!editor->model()) return;
        editor->view()->setFocus(Qt::ShortcutFocusReason);
    });
    for (QAction* a : editor->editorActions()) {
        menu->addAction(a);
        // Triggered from another tab, the action shows what it did.
        QObject::connect(a, &QAction::triggered, w, [w, editor] { w->tabs()->setCurrentWidget(editor); });
    }
    return editor;
}

}  // namespace pipelab::ui
