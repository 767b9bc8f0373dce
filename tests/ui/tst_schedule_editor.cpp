// Editing a schedule by hand: a legal move reruns the simulation and changes the
// timeline, an illegal one is refused with the validator's words and changes nothing,
// undo/redo, the keyboard and the mouse, save/load as the CLI's schedule JSON, moved
// actions marked, and the edited schedule run on the CPU backend.
#include <QAction>
#include <QFile>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>
#include <nlohmann/json.hpp>

#include "app/builtin_backends.h"
#include "core/schedule_gen.h"
#include "core/validate.h"
#include "ui/main_window.h"
#include "ui/run_controller.h"
#include "ui/run_history_model.h"
#include "ui/schedule_edit_model.h"
#include "ui/schedule_edit_view.h"
#include "ui/schedule_editor.h"
#include "ui/timeline_chart.h"
#include "ui/wait_overlay.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
RunConfig oneFOneB() {
    RunConfig c;
    c.model = {256, 64, 4, 4, 256, 32, 2};
    c.pipeline.stages = 4;
    c.pipeline.microbatches = 8;
    c.backend = "sim";
    c.steps = 1;
    return c;
}
// Where an action is on its rank in the shown timeline's start order.
double startOf(const Timeline& tl, const Action& a) {
    for (const auto& e : tl.events)
        if (Action{e.kind, e.chunk, e.microbatch} == a) return e.start_us;
    return -1;
}
RunPtr nextRun(ScheduleEditor& ed, const std::function<void()>& act) {
    QSignalSpy spy(&ed, &ScheduleEditor::runShown);
    act();
    if (!spy.wait(20000)) return {};
    return ed.lastRun();
}
void key(QWidget* w, int k, Qt::KeyboardModifiers mods = Qt::NoModifier) {
    QKeyEvent ev(QEvent::KeyPress, k, mods);
    QApplication::sendEvent(w, &ev);
}
void mouse(QWidget* w, QEvent::Type type, QPoint pos) {
    const bool move = type == QEvent::MouseMove;
    QMouseEvent ev(type, pos, w->mapToGlobal(pos), move ? Qt::NoButton : Qt::LeftButton,
                   type == QEvent::MouseButtonRelease ? Qt::NoButton : Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(w, &ev);
}
const Action F(int c, int m) { return {ActionKind::F, c, m}; }
const Action B(int c, int m) { return {ActionKind::B, c, m}; }
}  // namespace

class TestScheduleEditor : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        register_builtin_backends();
        // The main window reads and writes settings: keep the user's out of it.
        QVERIFY(m_settingsDir.isValid());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
        QCoreApplication::setOrganizationName(QStringLiteral("PipeLabTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_schedule_editor"));
    }

    // Rank 0 of 1F1B runs F0..F3 then B0: moving F3 after B0 is legal, reruns, and F3
    // now starts after B0; the moved action is flagged in the rows and on the Gantt.
    void legalMoveRerunsAndMarksTheMove() {
        ScheduleEditor ed;
        ed.setExperiment(oneFOneB());
        const RunPtr base = nextRun(ed, [&] { QVERIFY(ed.startFromExperiment()); });
        QVERIFY(base);
        const auto& row0 = ed.model()->order().ranks[0];
        QCOMPARE(row0[3], F(0, 3));
        QCOMPARE(row0[4], B(0, 0));
        QVERIFY(startOf(base->timeline, F(0, 3)) < startOf(base->timeline, B(0, 0)));

        const RunPtr moved = nextRun(ed, [&] { QCOMPARE(ed.model()->move(0, 3, 4), QString()); });
        QVERIFY(moved);
        QCOMPARE(ed.model()->order().ranks[0][4], F(0, 3));
        QVERIFY(startOf(moved->timeline, F(0, 3)) > startOf(moved->timeline, B(0, 0)));
        QCOMPARE(QString::fromStdString(moved->timeline.meta.schedule), QStringLiteral("custom"));
        QVERIFY(ed.model()->isMoved(F(0, 3)));
        QVERIFY(!ed.model()->isMoved(B(0, 0)));
        const std::vector<int> marked = ed.chart()->waits()->movedEvents();
        QCOMPARE(marked.size(), std::size_t(1));
        const auto& e = moved->timeline.events[std::size_t(marked[0])];
        QCOMPARE((Action{e.kind, e.chunk, e.microbatch}), F(0, 3));
        QVERIFY2(ed.messageText().contains("1 action(s) moved"), qPrintable(ed.messageText()));

        // Undo puts it back (and reruns); redo moves it again.
        const RunPtr undone = nextRun(ed, [&] { ed.model()->undoStack()->undo(); });
        QVERIFY(undone);
        QCOMPARE(ed.model()->order().ranks[0][3], F(0, 3));
        QVERIFY(ed.model()->movedActions().empty());
        QVERIFY(ed.chart()->waits()->movedEvents().empty());
        QCOMPARE(undone->timeline.meta.schedule, std::string("1f1b"));
        QCOMPARE(undone->stats.step_time_us, base->stats.step_time_us);
        const RunPtr redone = nextRun(ed, [&] { ed.model()->undoStack()->redo(); });
        QVERIFY(redone);
        QCOMPARE(ed.model()->order().ranks[0][4], F(0, 3));
        QCOMPARE(redone->stats.step_time_us, moved->stats.step_time_us);
    }

    // The last stage runs F1 then B1: putting B1 first is refused with the validator's
    // reason, word for word, and nothing changes or reruns.
    void illegalMoveIsRefusedWithTheValidatorsReason() {
        ScheduleEditor ed;
        ed.setExperiment(oneFOneB());
        QVERIFY(nextRun(ed, [&] { QVERIFY(ed.startFromExperiment()); }));
        const Schedule before = ed.model()->order();
        QCOMPARE(before.ranks[3][2], F(3, 1));
        QCOMPARE(before.ranks[3][3], B(3, 1));
        const quint64 job = ed.controller()->currentJob();

        Schedule candidate = before;
        std::swap(candidate.ranks[3][2], candidate.ranks[3][3]);
        const auto err = validate_schedule(add_send_recv(candidate));
        QVERIFY(err);
        const QString core = QString::fromStdString(err->message);
        QVERIFY2(core.contains("3B1 cannot come before 3F1: its forward has not run"), qPrintable(core));

        QSignalSpy refused(ed.model(), &ScheduleEditModel::refused);
        QCOMPARE(ed.model()->move(3, 3, 2), core);
        QCOMPARE(refused.count(), 1);
        QCOMPARE(ed.model()->order().ranks, before.ranks);
        QCOMPARE(ed.model()->undoStack()->count(), 0);
        QCOMPARE(ed.controller()->currentJob(), job);
        QCOMPARE(ed.view()->refusal(), core);
        QVERIFY(ed.messageText().contains("3B1 cannot come before 3F1"));

        // The same by keyboard: select 3B1, Shift+Left.
        ed.view()->select(3, 3);
        key(ed.view(), Qt::Key_Left, Qt::ShiftModifier);
        QCOMPARE(refused.count(), 2);
        QCOMPARE(ed.model()->order().ranks, before.ranks);
    }

    // Keys: arrows select, Shift+Right swaps with the neighbour, Ctrl+Z / Ctrl+Shift+Z
    // undo and redo. The mouse: drag a chip two places right.
    void keyboardAndMouseEdit() {
        ScheduleEditor ed;
        ed.setExperiment(oneFOneB());
        QVERIFY(nextRun(ed, [&] { QVERIFY(ed.startFromExperiment()); }));
        ScheduleEditView* v = ed.view();
        QCOMPARE(v->selectedRank(), 0);
        key(v, Qt::Key_Right);
        key(v, Qt::Key_Right);
        key(v, Qt::Key_Right);
        QCOMPARE(v->selectedIndex(), 3);
        QVERIFY(nextRun(ed, [&] { key(v, Qt::Key_Right, Qt::ShiftModifier); }));
        QCOMPARE(ed.model()->order().ranks[0][4], F(0, 3));
        QCOMPARE(v->selectedIndex(), 4);  // the selection follows the action
        QVERIFY(nextRun(ed, [&] { key(v, Qt::Key_Z, Qt::ControlModifier); }));
        QCOMPARE(ed.model()->order().ranks[0][3], F(0, 3));
        QVERIFY(nextRun(ed, [&] { key(v, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier); }));
        QCOMPARE(ed.model()->order().ranks[0][4], F(0, 3));
        QVERIFY(nextRun(ed, [&] { key(v, Qt::Key_Z, Qt::ControlModifier); }));

        // The selected action's block below is focused: why it waits.
        key(v, Qt::Key_Down);
        QCOMPARE(v->selectedRank(), 1);
        const Action sel = ed.model()->order().ranks[1][std::size_t(v->selectedIndex())];
        const int focus = ed.chart()->waits()->focusEvent();
        QVERIFY(focus >= 0);
        const auto& fe = ed.chart()->timeline().events[std::size_t(focus)];
        QCOMPARE((Action{fe.kind, fe.chunk, fe.microbatch}), sel);
        QVERIFY(ed.chart()->waits()->focusPinned());

        // Drag 0F3 (index 3) to the gap after 0B0 (index 4): it lands at index 4.
        v->resize(v->sizeHint());
        const QPoint from = v->chipRect(0, 3).center();
        const QPoint to(v->chipRect(0, 5).left(), from.y());
        QVERIFY(nextRun(ed, [&] {
            mouse(v, QEvent::MouseButtonPress, from);
            mouse(v, QEvent::MouseMove, (from + to) / 2);
            mouse(v, QEvent::MouseMove, to);
            mouse(v, QEvent::MouseButtonRelease, to);
        }));
        QCOMPARE(ed.model()->order().ranks[0][4], F(0, 3));
        QCOMPARE(ed.model()->order().ranks[0][3], B(0, 0));
        QVERIFY(ed.model()->isMoved(F(0, 3)));
    }

    // Every generated schedule can be the start: its compute order, lowered again, is the
    // generated schedule itself, and it runs.
    void startsFromEveryGeneratedSchedule_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("chunks");
        QTest::addColumn<bool>("recompute");
        QTest::newRow("gpipe") << int(ScheduleKind::GPipe) << 1 << false;
        QTest::newRow("1f1b + recompute") << int(ScheduleKind::OneFOneB) << 1 << true;
        QTest::newRow("interleaved v2") << int(ScheduleKind::Interleaved) << 2 << false;
        QTest::newRow("zero bubble") << int(ScheduleKind::ZeroBubble) << 1 << false;
        QTest::newRow("zb-h1") << int(ScheduleKind::ZBH1) << 1 << false;
        QTest::newRow("zb-v") << int(ScheduleKind::ZBV) << 2 << false;
        QTest::newRow("dualpipev") << int(ScheduleKind::DualPipeV) << 2 << false;
        QTest::newRow("bfs") << int(ScheduleKind::LoopedBFS) << 2 << false;
    }
    void startsFromEveryGeneratedSchedule() {
        QFETCH(int, kind);
        QFETCH(int, chunks);
        QFETCH(bool, recompute);
        RunConfig cfg = oneFOneB();
        cfg.pipeline.schedule = ScheduleKind(kind);
        cfg.pipeline.chunks = chunks;
        if (chunks > 1) cfg.pipeline.stages = 2;  // every chunk needs a layer: 6 to share
        cfg.pipeline.recompute_all = recompute;
        ScheduleEditor ed;
        ed.setExperiment(cfg);
        const RunPtr run = nextRun(ed, [&] { QVERIFY(ed.startFromExperiment()); });
        QVERIFY2(run, qPrintable(ed.messageText()));
        QCOMPARE(ed.model()->lowered().ranks, make_plan(cfg).schedule.ranks);
        QCOMPARE(run->timeline.meta.schedule, make_plan(cfg).schedule.name);
    }

    // Saved as the schedule JSON the CLI reads: it parses, passes the validator, and
    // loads back to the same order.
    void saveLoadRoundTrip() {
        ScheduleEditor ed;
        ed.setExperiment(oneFOneB());
        QVERIFY(nextRun(ed, [&] { QVERIFY(ed.startFromExperiment()); }));
        QVERIFY(nextRun(ed, [&] { QCOMPARE(ed.model()->move(0, 3, 4), QString()); }));
        QTemporaryDir dir;
        const QString path = dir.filePath("edited.json");
        QVERIFY(ed.saveSchedule(path));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        const Schedule s =
            schedule_from_json(nlohmann::json::parse(bytes.constData(), bytes.constData() + bytes.size()));
        QVERIFY(!validate_schedule(s));
        QCOMPARE(s.ranks, ed.model()->lowered().ranks);
        QCOMPARE(s.name, std::string("custom"));

        ScheduleEditor other;
        other.setExperiment(oneFOneB());
        QVERIFY(nextRun(other, [&] { QVERIFY(other.loadSchedule(path)); }));
        QCOMPARE(other.model()->order().ranks, ed.model()->order().ranks);

        // A broken file is refused with the validator's reason; the edit stays.
        const QString bad = dir.filePath("bad.json");
        nlohmann::json j = schedule_to_json(ed.model()->lowered());
        j["actions"][3] = nlohmann::json::array({"3B0", "3F0"});
        QFile out(bad);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(QByteArray::fromStdString(j.dump()));
        out.close();
        QVERIFY(!other.loadSchedule(bad));
        QVERIFY2(other.messageText().contains("bad.json"), qPrintable(other.messageText()));
        QCOMPARE(other.model()->order().ranks, ed.model()->order().ranks);
    }

    // The edited order runs on the CPU backend: rank 0's actions start in that order.
    void editedScheduleRunsOnCpu() {
        ScheduleEditor ed;
        RunConfig cfg = oneFOneB();
        cfg.pipeline.stages = 2;
        cfg.pipeline.microbatches = 4;
        ed.setExperiment(cfg);
        QVERIFY(nextRun(ed, [&] { QVERIFY(ed.startFromExperiment()); }));
        QCOMPARE(ed.model()->order().ranks[0][1], F(0, 1));
        QCOMPARE(ed.model()->order().ranks[0][2], B(0, 0));
        QVERIFY(nextRun(ed, [&] { QCOMPARE(ed.model()->move(0, 1, 2), QString()); }));
        const RunPtr cpu = nextRun(ed, [&] { ed.runOn("cpu"); });
        QVERIFY(cpu);
        QCOMPARE(cpu->timeline.meta.backend, std::string("cpu"));
        QVERIFY(!cpu->losses.empty());
        QVERIFY(startOf(cpu->timeline, F(0, 1)) > startOf(cpu->timeline, B(0, 0)));
    }

    // The main window has the editor tab and the Explain menu's critical-path toggle.
    void mainWindowHasTheTools() {
        MainWindow w;
        auto* editor = w.findChild<ScheduleEditor*>();
        QVERIFY(editor);
        QVERIFY(w.tabs()->indexOf(editor) >= 0);
        // A CPU run of the edited schedule lands in the run history.
        const int before = w.history()->rowCount();
        editor->setExperiment([] {
            RunConfig c = oneFOneB();
            c.pipeline.stages = 2;
            c.pipeline.microbatches = 2;
            return c;
        }());
        QVERIFY(nextRun(*editor, [&] { QVERIFY(editor->startFromExperiment()); }));
        QVERIFY(nextRun(*editor, [&] { editor->runOn("cpu"); }));
        QCOMPARE(w.history()->rowCount(), before + 1);
        QCOMPARE(w.history()->run(before)->timeline.meta.backend, std::string("cpu"));
        auto* critical = w.findChild<QAction*>("criticalPathAction");
        QVERIFY(critical);
        critical->setChecked(true);
        QVERIFY(w.chart()->waits()->criticalPathShown());
        QVERIFY(editor->chart()->waits()->criticalPathShown());
    }

private:
    QTemporaryDir m_settingsDir;
};

QTEST_MAIN(TestScheduleEditor)
#include "tst_schedule_editor.moc"
