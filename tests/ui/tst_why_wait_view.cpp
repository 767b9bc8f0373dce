// The chart's "why does this block wait": hover and click give core's sentence and
// arrows from exactly the block's dependencies, the critical-path toggle marks core's
// path, idle stretches are labelled by cause, and the keyboard reaches all of it.
#include <set>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QTest>

#include "core/deps.h"
#include "core/run_config.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "core/why_wait.h"
#include "ui/gantt_plottable.h"
#include "ui/stats_panel.h"
#include "ui/timeline_chart.h"
#include "ui/wait_overlay.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
struct Sim {
    Plan plan;
    Timeline tl;
};
Sim simulated(ScheduleKind kind, int p, int m) {
    RunConfig cfg;
    cfg.model.layers = 8;
    cfg.pipeline.schedule = kind;
    cfg.pipeline.stages = p;
    cfg.pipeline.microbatches = m;
    cfg.simulator.link_latency_us = 300;
    cfg.simulator.link_bandwidth_gb_per_s = 0;  // latency only
    Sim s{make_plan(cfg), {}};
    s.tl = simulate(s.plan.schedule, s.plan.partition, s.plan.cost);
    return s;
}
int find(const Timeline& tl, const Action& a) {
    for (std::size_t i = 0; i < tl.events.size(); ++i) {
        const auto& e = tl.events[i];
        if (Action{e.kind, e.chunk, e.microbatch} == a) return static_cast<int>(i);
    }
    return -1;
}
QString name(const Timeline& tl, int i) {
    const auto& e = tl.events[static_cast<std::size_t>(i)];
    return QString::fromStdString(to_string(Action{e.kind, e.chunk, e.microbatch}));
}
QPoint centreOf(TimelineChart& chart, int event) {
    const auto& e = chart.timeline().events[static_cast<std::size_t>(event)];
    QCPAxis* x = chart.ganttRect()->axis(QCPAxis::atBottom);
    QCPAxis* y = chart.ganttRect()->axis(QCPAxis::atLeft);
    return QPoint(static_cast<int>(x->coordToPixel((e.start_us + e.end_us) / 2000.0)),
                  static_cast<int>(y->coordToPixel(e.rank)));
}
void mouse(QWidget* w, QEvent::Type type, QPoint pos) {
    const Qt::MouseButton b = type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton;
    QMouseEvent ev(type, pos, w->mapToGlobal(pos), b, type == QEvent::MouseButtonPress ? Qt::LeftButton : Qt::NoButton,
                   Qt::NoModifier);
    QApplication::sendEvent(w, &ev);
}
void key(QWidget* w, int k) {
    QKeyEvent ev(QEvent::KeyPress, k, Qt::NoModifier);
    QApplication::sendEvent(w, &ev);
}
}  // namespace

class TestWhyWaitView : public QObject {
    Q_OBJECT
private slots:
    // Hovering 1F1 on stage 1: the tooltip is core's sentence and the arrows start at
    // exactly its dependencies (previous action, the receive, the send, the producer).
    void hoverExplainsAndDrawsTheDependencies() {
        const Sim s = simulated(ScheduleKind::OneFOneB, 4, 8);
        TimelineChart chart;
        chart.resize(1400, 700);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setTimeline(s.tl);
        chart.setTimeRange(0, s.tl.step_time_us() / 1000.0 * 0.5);  // room for the block
        chart.replot();
        const Action a{ActionKind::F, 1, 1};
        const int ev = find(s.tl, a);
        QVERIFY(ev >= 0);
        const QPoint at = centreOf(chart, ev);
        QCOMPARE(chart.gantt()->eventAt(at), ev);

        mouse(&chart, QEvent::MouseMove, at);
        WaitOverlay* w = chart.waits();
        QCOMPARE(w->focusEvent(), ev);
        QVERIFY(!w->focusPinned());
        const WaitAnalysis core = analyse_waits(s.tl);
        const QString sentence = QString::fromStdString(explain_wait(s.tl, core, ev));
        QVERIFY2(sentence.startsWith("1F1 on stage 1 waited ") && sentence.contains(" for 0F1 on stage 0 (+"),
                 qPrintable(sentence));
        QVERIFY2(chart.toolTipAt(at).contains(sentence.toHtmlEscaped()), qPrintable(chart.toolTipAt(at)));

        // Expected from core/deps.h: the action's dependencies, the send its receive
        // waits for, that send's producer, and the previous action on the rank.
        const ScheduleIndex index(s.plan.schedule);
        std::set<QString> expected;
        for (const Dependency& d : dependencies(a, index)) {
            expected.insert(QString::fromStdString(to_string(d.action)));
            if (is_comm(d.action.kind)) {
                const Action send = comm_peer(d.action);
                expected.insert(QString::fromStdString(to_string(send)));
                for (const Dependency& p : dependencies(send, index))
                    expected.insert(QString::fromStdString(to_string(p.action)));
            }
        }
        expected.insert(name(s.tl, core.events[static_cast<std::size_t>(ev)].prev));
        QCOMPARE(expected,
                 (std::set<QString>{"1RECV_F1", "0SEND_F1", "0F1", name(s.tl, core.events[std::size_t(ev)].prev)}));
        std::set<QString> drawn;
        for (int d : w->dependencyEvents()) drawn.insert(name(s.tl, d));
        QCOMPARE(drawn, expected);
        bool transfer = false;
        for (const auto& arrow : w->arrows()) transfer |= arrow.kind == WaitOverlay::ArrowKind::Transfer;
        QVERIFY(transfer);

        // A click pins it: moving away keeps the focus; the keys walk and Escape drops it.
        mouse(&chart, QEvent::MouseButtonPress, at);
        mouse(&chart, QEvent::MouseButtonRelease, at);
        QVERIFY(w->focusPinned());
        mouse(&chart, QEvent::MouseMove, QPoint(2, 2));
        QCOMPARE(w->focusEvent(), ev);
        key(&chart, Qt::Key_Right);
        const int next = w->focusEvent();
        QVERIFY(next != ev && s.tl.events[std::size_t(next)].rank == 1);
        QVERIFY(s.tl.events[std::size_t(next)].start_us >= s.tl.events[std::size_t(ev)].start_us);
        key(&chart, Qt::Key_Down);
        QCOMPARE(s.tl.events[std::size_t(w->focusEvent())].rank, 2);
        key(&chart, Qt::Key_Escape);
        QCOMPARE(w->focusEvent(), -1);
    }

    // An imported timeline has no SEND/RECV: the message is implied, and the producer is
    // still found.
    void computeOnlyTimelineNamesTheProducer() {
        Timeline tl;
        tl.meta.stages = 2;
        tl.meta.microbatches = 1;
        tl.meta.chunk_rank = {0, 1};
        tl.events = {{0, ActionKind::F, 0, 0, 0, 1000},
                     {1, ActionKind::F, 1, 0, 1300, 2300},
                     {1, ActionKind::B, 1, 0, 2300, 4300},
                     {0, ActionKind::B, 0, 0, 4500, 6500}};
        TimelineChart chart;
        chart.setTimeline(tl);
        QCOMPARE(chart.waits()->explain(1),
                 QStringLiteral("1F0 on stage 1 waited 1.3 ms for 0F0 on stage 0 (+300.0 us transfer)"));
        chart.waits()->setFocusEvent(3);
        const std::vector<int> list = chart.waits()->dependencyEvents();
        const std::set<int> deps(list.begin(), list.end());
        QCOMPARE(deps, (std::set<int>{0, 2}));  // its forward (previous on the rank) and 1B0
    }

    // The toggle outlines exactly core's critical path; Stats gives its shares.
    void criticalPathToggleMarksCoresPath() {
        const Sim s = simulated(ScheduleKind::OneFOneB, 4, 8);
        TimelineChart chart;
        chart.setTimeline(s.tl);
        QVERIFY(chart.waits()->criticalMarked().empty());
        chart.waits()->setCriticalPathShown(true);
        const CriticalPath cp = analyse_waits(s.tl).critical;
        QVERIFY(cp.events.size() > 8);
        QCOMPARE(chart.waits()->criticalMarked(), cp.events);
        chart.waits()->setCriticalPathShown(false);
        QVERIFY(chart.waits()->criticalMarked().empty());

        const Stats st = compute_stats(s.tl);
        const QString text = criticalPathText(st);
        const double total = cp.compute_us + cp.transfer_us + cp.other_us;
        QVERIFY2(text.startsWith(QString::number(100 * cp.compute_us / total, 'f', 1) + " % compute, "),
                 qPrintable(text));
        QVERIFY2(text.contains(QString::number(100 * cp.transfer_us / total, 'f', 1) + " % transfers"),
                 qPrintable(text));
    }

    // 1F1B's warm-up and cool-down are labelled; turned
    // off, nothing is drawn.
    void idleStretchesAreLabelledByCause() {
        const Sim s = simulated(ScheduleKind::OneFOneB, 4, 8);
        TimelineChart chart;
        chart.resize(1400, 700);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setTimeline(s.tl);
        chart.replot();
        const QStringList labels = chart.waits()->drawnIdleLabels();
        QVERIFY2(labels.contains("stage 3: warm-up"), qPrintable(labels.join(", ")));
        QVERIFY2(labels.contains("stage 3: cool-down"), qPrintable(labels.join(", ")));
        // Stage 0 starts at once, but waits for its first gradient: the pipeline filling.
        QVERIFY2(labels.contains("stage 0: warm-up"), qPrintable(labels.join(", ")));
        chart.setRevealCount(10);  // step-through: the rest of the step is not told
        chart.replot();
        QVERIFY(chart.waits()->drawnIdleLabels().isEmpty());
        chart.setRevealCount(-1);
        chart.replot();
        QCOMPARE(chart.waits()->drawnIdleLabels(), labels);
        chart.waits()->setIdleLabelsShown(false);
        chart.replot();
        QVERIFY(chart.waits()->drawnIdleLabels().isEmpty());
    }
};

QTEST_MAIN(TestWhyWaitView)
#include "tst_why_wait_view.moc"
