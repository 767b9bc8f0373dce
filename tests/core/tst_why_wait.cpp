// Why each block waits, the critical path and idle causes, on simulated and hand-made
// timelines.
#include <QtTest>

#include "core/run_config.h"
#include "core/simulator.h"
#include "core/why_wait.h"

using namespace pipelab;

namespace {
Timeline simulated(ScheduleKind kind, int p, int m, std::vector<int> cuts = {}, double latency_us = 0) {
    RunConfig cfg;
    cfg.model.layers = 6;
    cfg.pipeline.schedule = kind;
    cfg.pipeline.stages = p;
    cfg.pipeline.microbatches = m;
    cfg.pipeline.boundaries = std::move(cuts);
    cfg.simulator.link_latency_us = latency_us;
    cfg.simulator.link_bandwidth_gb_per_s = 0;  // latency only
    const Plan plan = make_plan(cfg);
    return simulate(plan.schedule, plan.partition, plan.cost);
}
int find(const Timeline& tl, int rank, ActionKind k, int chunk, int mb) {
    for (std::size_t i = 0; i < tl.events.size(); ++i) {
        const auto& e = tl.events[i];
        if (e.rank == rank && e.kind == k && e.chunk == chunk && e.microbatch == mb) return int(i);
    }
    return -1;
}
}  // namespace

class TestWhyWait : public QObject {
    Q_OBJECT
private slots:
    // Stage 1's first forward waits for stage 0's, plus the link's latency.
    void forwardWaitsForTheStageBefore() {
        const Timeline tl = simulated(ScheduleKind::OneFOneB, 4, 8, {}, 300);
        const WaitAnalysis w = analyse_waits(tl);
        const int f = find(tl, 1, ActionKind::F, 1, 0);
        const EventWait& x = w.events[f];
        QCOMPARE(x.producer, find(tl, 0, ActionKind::F, 0, 0));
        QVERIFY(x.waited_for_producer);
        QVERIFY(std::abs(x.transfer_us - 300) < 1e-6);
        QVERIFY(std::abs(x.idle_us - (tl.events[x.producer].duration_us() + 300)) < 1e-6);
        const QString why = QString::fromStdString(explain_wait(tl, w, f));
        QVERIFY2(why.startsWith("1F0 on stage 1 waited ") && why.endsWith(" for 0F0 on stage 0 (+300.0 us transfer)"),
                 qPrintable(why));
        QVERIFY(
            QString::fromStdString(explain_wait(tl, w, find(tl, 0, ActionKind::F, 0, 0))).endsWith("started at once"));
    }

    // The critical path covers the step exactly: compute + transfers + the rest.
    void criticalPathAddsUpToTheStep_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<double>("latency");
        QTest::newRow("gpipe free links") << int(ScheduleKind::GPipe) << 0.0;
        QTest::newRow("1f1b 200 us links") << int(ScheduleKind::OneFOneB) << 200.0;
        QTest::newRow("zb 50 us links") << int(ScheduleKind::ZeroBubble) << 50.0;
    }
    void criticalPathAddsUpToTheStep() {
        QFETCH(int, kind);
        QFETCH(double, latency);
        const Timeline tl = simulated(ScheduleKind(kind), 4, 8, {}, latency);
        const CriticalPath cp = analyse_waits(tl).critical;
        QVERIFY(!cp.events.empty());
        const double sum = cp.compute_us + cp.transfer_us + cp.other_us;
        QVERIFY2(std::abs(sum - tl.step_time_us()) < 1e-6 * tl.step_time_us(), qPrintable(QString("%1 + %2 + %3 vs %4")
                                                                                              .arg(cp.compute_us)
                                                                                              .arg(cp.transfer_us)
                                                                                              .arg(cp.other_us)
                                                                                              .arg(tl.step_time_us())));
        // Consecutive path events never overlap and the last ends the step.
        for (std::size_t i = 1; i < cp.events.size(); ++i)
            QVERIFY(tl.events[cp.events[i - 1]].end_us <= tl.events[cp.events[i]].end_us + 1e-9);
        QCOMPARE(tl.events[cp.events.back()].end_us, tl.step_time_us());
        if (latency == 0)
            QVERIFY(cp.transfer_us < 1e-9);
        else
            QVERIFY(cp.transfer_us >= 2 * latency);  // at least into the pipe and back
    }

    // Warm-up until a rank's first backward, cool-down after its last forward; on an
    // imbalanced partition the fast ranks' steady-state gaps are imbalance, waiting on
    // the slow rank. On a balanced 1F1B, rank 0's wait for its first gradient is warm-up,
    // not imbalance.
    void balancedFillIsWarmUp() {
        const Timeline tl = simulated(ScheduleKind::OneFOneB, 4, 8);
        const WaitAnalysis w = analyse_waits(tl);
        const int b0 = find(tl, 0, ActionKind::B, 0, 0);
        bool found = false;
        for (const IdleStretch& s : w.idle)
            if (s.rank == 0 && std::abs(s.end_us - tl.events[b0].start_us) < 1e-6) {
                QCOMPARE(int(s.cause), int(IdleCause::WarmUp));
                found = true;
            }
        QVERIFY(found);
    }

    // On an imbalanced partition the fast ranks' middle gaps are imbalance, waiting on the
    // slow rank.
    void idleStretchesHaveCauses() {
        const Timeline tl = simulated(ScheduleKind::OneFOneB, 2, 8, {2});  // rank 1: five blocks + head, the slow one
        const WaitAnalysis w = analyse_waits(tl);
        bool warm1 = false, cool1 = false;
        int imbalance = 0, on_rank1 = 0;
        for (const IdleStretch& s : w.idle) {
            warm1 |= s.rank == 1 && s.cause == IdleCause::WarmUp;
            cool1 |= s.rank == 1 && s.cause == IdleCause::CoolDown;
            if (s.cause == IdleCause::Imbalance) {
                ++imbalance;
                on_rank1 += tl.events[s.waiting_for].rank == 1;
            }
        }
        QVERIFY(warm1);
        QVERIFY(cool1);  // the last stage finishes first, while rank 0 drains
        QVERIFY(imbalance > 0);
        QVERIFY(on_rank1 > 0);
    }

    // A timeline without communication events (as some imported traces are): the message
    // between ranks is implied by the dependency rules.
    void computeOnlyTimelines() {
        Timeline tl;
        tl.meta.schedule = "custom";
        tl.meta.stages = 2;
        tl.meta.microbatches = 1;
        tl.meta.chunk_rank = {0, 1};
        tl.events = {{0, ActionKind::F, 0, 0, 0, 10},
                     {1, ActionKind::F, 1, 0, 12, 20},
                     {1, ActionKind::B, 1, 0, 20, 40},
                     {0, ActionKind::B, 0, 0, 41, 60}};
        const WaitAnalysis w = analyse_waits(tl);
        QCOMPARE(QString::fromStdString(explain_wait(tl, w, 1)),
                 QString("1F0 on stage 1 waited 12.0 us for 0F0 on stage 0 (+2.0 us transfer)"));
        QCOMPARE(w.events[3].producer, 2);
        const CriticalPath& cp = w.critical;
        QCOMPARE(cp.events, (std::vector<int>{0, 1, 2, 3}));
        QCOMPARE(cp.compute_us, 57.0);
        QCOMPARE(cp.transfer_us, 3.0);
        QCOMPARE(cp.other_us, 0.0);
    }

    void emptyAndOddInputIsHarmless() {
        Timeline tl;
        QVERIFY(analyse_waits(tl).events.empty());
        tl.events = {{3, ActionKind::RECV_F, 5, 0, 0, 1}};  // no sender, no meta
        const WaitAnalysis w = analyse_waits(tl);
        QCOMPARE(w.events[0].producer, -1);
        QVERIFY(!explain_wait(tl, w, 0).empty());
        QVERIFY(explain_wait(tl, w, 7).empty());
    }
};

QTEST_GUILESS_MAIN(TestWhyWait)
#include "tst_why_wait.moc"
