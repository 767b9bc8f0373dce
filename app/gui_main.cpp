// pipelab: the desktop app. `pipelab [CONFIG.json]` opens a config ready to run (and
// runs it: the simulator answers at once). `--screenshot OUT.png` saves the window after
// the first run and quits (docs, visual checks; exit 2 when the file cannot be opened,
// 3 when the run fails, the banner in the picture either way); `--compare OTHER.json` also runs OTHER
// and shows both on the Compare tab; `--reveal K` shows the first K actions (step-through);
// `--dark` uses the dark palette. Teaching views: `--critical-path` outlines the critical
// path, `--why ACTION` (e.g. 1F3) focuses that block as a click would (arrows to what it
// waited for, the sentence in the status bar), `--edit R:FROM:TO,...` opens the schedule
// editor on the experiment's schedule and makes those moves (an illegal one shows its
// refusal); the screenshot then waits for the editor's last run. `--color-blind` uses
// the colour-blind-safe kind palette; `--deuteranopia OUT2.png` also saves the screenshot
// as a deuteranope sees it; `--ranks R0:R1` zooms the Gantt to ranks R0..R1;
// `--layers FIRST:COUNT` zooms the partition editor to COUNT layers from FIRST.
#include <functional>
#include <memory>

#include <QApplication>
#include <QCommandLineParser>
#include <QTabWidget>
#include <QAction>
#include <QTimer>

#include "app/builtin_backends.h"
#include "ui/compare_view.h"
#include "ui/colour_vision.h"
#include "ui/error_banner.h"
#include "ui/main_window.h"
#include "ui/partition_editor.h"
#include "ui/run_controller.h"
#include "ui/run_history_model.h"
#include "ui/schedule_edit_model.h"
#include "ui/schedule_edit_view.h"
#include "ui/schedule_editor.h"
#include "ui/step_bar.h"
#include "ui/timeline_chart.h"
#include "ui/wait_overlay.h"
#include "ui/zoom_state.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    pipelab::register_builtin_backends();
    QApplication::setOrganizationName(QStringLiteral("PipeLab"));
    QApplication::setApplicationName(QStringLiteral("PipeLab"));
    QApplication::setApplicationVersion(QStringLiteral(PIPELAB_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("PipeLab: a laboratory for pipeline parallelism"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("config"), QStringLiteral("Experiment config (JSON) to open"));
    const QCommandLineOption shot(QStringLiteral("screenshot"),
                                  QStringLiteral("Save the window after the first run and quit."),
                                  QStringLiteral("OUT.png"));
    const QCommandLineOption compare(QStringLiteral("compare"), QStringLiteral("Also run this config and compare."),
                                     QStringLiteral("OTHER.json"));
    const QCommandLineOption trace(QStringLiteral("trace"), QStringLiteral("Open a PipeLab Chrome trace."),
                                   QStringLiteral("TRACE.json"));
    const QCommandLineOption reveal(
        QStringLiteral("reveal"), QStringLiteral("Step-through: show only the first K actions."), QStringLiteral("K"));
    const QCommandLineOption dark(QStringLiteral("dark"), QStringLiteral("Use the dark palette."));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size for screenshots."),
                                  QStringLiteral("WxH"), QStringLiteral("1600x1000"));
    const QCommandLineOption critical(QStringLiteral("critical-path"), QStringLiteral("Outline the critical path."));
    const QCommandLineOption why(QStringLiteral("why"),
                                 QStringLiteral("Focus this action's block (e.g. 1F3): why it waits."),
                                 QStringLiteral("ACTION"));
    const QCommandLineOption edit(
        QStringLiteral("edit"),
        QStringLiteral("Schedule editor: start from the experiment and move actions (rank:from:to,...)."),
        QStringLiteral("MOVES"));
    const QCommandLineOption colorBlind(QStringLiteral("color-blind"),
                                        QStringLiteral("Use the colour-blind-safe kind palette."));
    const QCommandLineOption deuter(QStringLiteral("deuteranopia"),
                                    QStringLiteral("Also save the screenshot as seen with deuteranopia."),
                                    QStringLiteral("OUT2.png"));
    const QCommandLineOption ranks(
        QStringLiteral("ranks"), QStringLiteral("Zoom the Gantt to these ranks (e.g. 8:23)."), QStringLiteral("R0:R1"));
    const QCommandLineOption layerView(QStringLiteral("layers"),
                                       QStringLiteral("Zoom the partition editor to COUNT layers from FIRST."),
                                       QStringLiteral("FIRST:COUNT"));
    parser.addOptions(
        {shot, compare, trace, reveal, dark, size, critical, why, edit, colorBlind, deuter, ranks, layerView});
    parser.process(app);

    pipelab::ui::MainWindow w;
    if (parser.isSet(dark)) w.setDarkPalette(true);
    if (parser.isSet(colorBlind)) w.setColorBlindPalette(true);
    const QStringList wh = parser.value(size).split(QLatin1Char('x'));
    if (parser.isSet(shot) && wh.size() == 2) w.resize(wh[0].toInt(), wh[1].toInt());
    w.show();

    if (parser.isSet(reveal)) {
        const int k = parser.value(reveal).toInt();
        QObject::connect(&w, &pipelab::ui::MainWindow::runDisplayed, &w, [&w, k] { w.stepBar()->setShown(k); });
    }
    if (parser.isSet(ranks)) {
        const QStringList r = parser.value(ranks).split(QLatin1Char(':'));
        const double r0 = r.value(0).toDouble(), r1 = r.value(1).toDouble();
        QObject::connect(&w, &pipelab::ui::MainWindow::runDisplayed, &w,
                         [&w, r0, r1] { w.chart()->zoomState()->setRankRange(r0 - 0.5, r1 + 0.5); });
    }
    if (parser.isSet(layerView)) {
        const QStringList l = parser.value(layerView).split(QLatin1Char(':'));
        const double first = l.value(0).toDouble(), count = l.value(1).toDouble();
        QObject::connect(&w, &pipelab::ui::MainWindow::runDisplayed, &w,
                         [&w, first, count] { w.partitionEditor()->setLayerView(first, count); });
    }
    if (parser.isSet(critical))
        if (auto* act = w.findChild<QAction*>(QStringLiteral("criticalPathAction"))) act->setChecked(true);
    if (parser.isSet(why)) {
        const auto action = pipelab::parse_action(parser.value(why).toStdString());
        QObject::connect(&w, &pipelab::ui::MainWindow::runDisplayed, &w, [&w, action] {
            const auto& events = w.chart()->timeline().events;
            for (std::size_t i = 0; action && i < events.size(); ++i)
                if (pipelab::Action{events[i].kind, events[i].chunk, events[i].microbatch} == *action)
                    w.chart()->waits()->setFocusEvent(static_cast<int>(i), true);
        });
    }
    const QString shotPath = parser.value(shot);
    const QString deuterPath = parser.value(deuter);
    // Saves the window as it is (the error banner included) and quits with `code`; a
    // grab that cannot be written is exit code 1. Delayed so the banner is laid out.
    auto saveAndExit = [&w, shotPath, deuterPath](int code) {
        QTimer::singleShot(300, &w, [&w, shotPath, deuterPath, code] {
            const QImage image = w.grab().toImage();
            bool ok = image.save(shotPath);
            if (!deuterPath.isEmpty()) ok = pipelab::ui::simulateDeuteranopia(image).save(deuterPath) && ok;
            QApplication::exit(ok ? code : 1);
        });
    };
    if (parser.isSet(edit)) {
        // After the first run: the editor tab, the experiment's schedule, then one move per
        // editor run (a refused move starts none, so the next follows at once).
        auto* editor = w.findChild<pipelab::ui::ScheduleEditor*>();
        auto moves = std::make_shared<QStringList>(parser.value(edit).split(QLatin1Char(','), Qt::SkipEmptyParts));
        auto step = std::make_shared<std::function<void()>>();
        *step = [editor, moves, step, saveAndExit, shotPath] {
            while (!moves->isEmpty()) {
                const QStringList m = moves->takeFirst().split(QLatin1Char(':'));
                // A no-op move (from == to) starts no rerun: go on at once.
                if (m.size() == 3 && m[1] != m[2] &&
                    editor->model()->move(m[0].toInt(), m[1].toInt(), m[2].toInt()).isEmpty()) {
                    editor->view()->select(m[0].toInt(), m[2].toInt());
                    return;  // the rerun calls back
                }
                if (m.size() == 3) editor->view()->select(m[0].toInt(), m[1].toInt());
            }
            QObject::disconnect(editor, &pipelab::ui::ScheduleEditor::runShown, nullptr, nullptr);
            if (!shotPath.isEmpty()) saveAndExit(0);
        };
        QObject::connect(&w, &pipelab::ui::MainWindow::runDisplayed, editor, [&w, editor, step] {
            if (editor->model()->hasSchedule()) return;
            w.tabs()->setCurrentWidget(editor);
            QObject::connect(editor, &pipelab::ui::ScheduleEditor::runShown, editor, [step] { (*step)(); });
            editor->startFromExperiment();
        });
        QObject::connect(editor->controller(), &pipelab::ui::RunController::failed, &w, [saveAndExit, shotPath] {
            if (!shotPath.isEmpty()) saveAndExit(3);
        });
    }
    if (!shotPath.isEmpty() && !parser.isSet(edit)) {
        // Counts runs shown; with --compare the picture waits for the second one.
        const int wanted = parser.isSet(compare) ? 2 : 1;
        auto shown = std::make_shared<int>(0);
        QObject::connect(&w, &pipelab::ui::MainWindow::runDisplayed, &w,
                         [&w, shown, wanted, saveAndExit, &parser, &compare] {
                             if (++*shown == 1 && wanted == 2) {
                                 if (w.openConfig(parser.value(compare)))
                                     w.run();
                                 else
                                     saveAndExit(2);
                                 return;
                             }
                             if (*shown < wanted) return;
                             if (wanted == 2) w.compareRuns(0, 1);
                             saveAndExit(0);
                         });
        QObject::connect(w.controller(), &pipelab::ui::RunController::failed, &w, [saveAndExit] { saveAndExit(3); });
    }
    // A file that cannot be opened starts no run, so neither runDisplayed nor failed
    // would ever end a screenshot: save the banner and quit with 2 (bad input, as the CLI).
    auto openFailed = [&] {
        if (!shotPath.isEmpty()) saveAndExit(2);
    };
    const QStringList args = parser.positionalArguments();
    if (parser.isSet(trace)) {
        if (!w.openTrace(parser.value(trace))) openFailed();
    } else if (!args.isEmpty()) {
        if (w.openConfig(args.first()))
            w.run();
        else
            openFailed();
    } else {
        w.run();  // the default experiment, so the window is never empty
    }
    return QApplication::exec();
}
