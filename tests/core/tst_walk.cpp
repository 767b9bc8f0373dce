// The one dependency walk: who waits for whom, ranks sharing a device, policies, and
// recomputation as the simulator sees it.
#include <QtTest>

#include "core/deps.h"
#include "core/recompute.h"
#include "core/run_config.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "core/validate.h"
#include "core/walk.h"

using namespace pipelab;

namespace {
Schedule lowered(ScheduleKind kind, int p, int m, int v = 1) { return make_schedule({kind, p, m, v}, 64); }

WalkTiming unit_costs() {
    WalkTiming t;
    t.duration = [](int, const Action& a) { return a.kind == ActionKind::B ? 2.0 : 1.0; };
    return t;
}
}  // namespace

class TestWalk : public QObject {
    Q_OBJECT
private slots:
    // The rules in words, for a lowered and a compute-only schedule.
    void dependenciesFollowTheRules() {
        const Schedule s = lowered(ScheduleKind::OneFOneB, 3, 2);
        const ScheduleIndex idx(s);
        const auto deps = [&](Action a) {
            QStringList out;
            for (const Dependency& d : dependencies(a, idx))
                out << QString::fromStdString(to_string(d.action)) + (d.message ? "*" : "");
            return out.join(' ');
        };
        QCOMPARE(deps({ActionKind::F, 1, 0}), QString("1RECV_F0"));
        QCOMPARE(deps({ActionKind::RECV_F, 1, 0}), QString("0SEND_F0*"));
        QCOMPARE(deps({ActionKind::B, 1, 1}), QString("1F1 1RECV_B1"));
        QCOMPARE(deps({ActionKind::B, 2, 1}), QString("2F1"));
        QCOMPARE(deps({ActionKind::SEND_B, 1, 0}), QString("1B0"));

        const Schedule compute = one_f_one_b_order(3, 2);  // no SEND/RECV: messages implied
        const ScheduleIndex cidx(compute);
        QStringList f;
        for (const Dependency& d : dependencies({ActionKind::F, 1, 0}, cidx))
            f << QString::fromStdString(to_string(d.action)) + (d.message ? "*" : "");
        QCOMPARE(f.join(' '), QString("0F0*"));

        const Schedule rc = add_recompute(s, {false, true, false});
        const ScheduleIndex ridx(rc);
        QStringList b;
        for (const Dependency& d : dependencies({ActionKind::B, 1, 0}, ridx))
            b << QString::fromStdString(to_string(d.action));
        QCOMPARE(b.join(' '), QString("1R0 1RECV_B0"));
    }

    // A receive waits for its send plus the transfer; the wait is the receive's duration.
    void receiveWaitsForTheTransfer() {
        const Schedule s = lowered(ScheduleKind::GPipe, 2, 1);
        WalkTiming t = unit_costs();
        t.transfer = [](const Action&, int, int) { return 0.5; };
        const WalkResult w = walk_schedule(s, t);
        QVERIFY(w.complete);
        // rank 1: RECV_F0 from 0 (rank 0's F ends at 1, +0.5) then F0 1.5..2.5.
        QCOMPARE(w.start[1][0], 0.0);
        QCOMPARE(w.end[1][0], 1.5);
        QCOMPARE(w.start[1][1], 1.5);
        QCOMPARE(w.end[1][1], 2.5);
    }

    // Four ranks that each run one long compute action share a device with two slots: every
    // action runs at half speed, so all four end at twice their length.
    void ranksSharingADeviceShareItsThroughput() {
        Schedule s;
        s.name = "custom";
        s.n_ranks = 4;
        s.n_microbatches = 1;
        s.chunk_rank = {0, 1, 2, 3};
        s.ranks = {{{ActionKind::F, 0, 0}}, {{ActionKind::F, 1, 0}}, {{ActionKind::F, 2, 0}}, {{ActionKind::F, 3, 0}}};
        WalkTiming t;
        t.duration = [](int r, const Action&) { return r == 3 ? 1.0 : 4.0; };
        // Compute-only: F(c) depends on F(c-1). Without sharing they run one after another.
        WalkResult alone = walk_schedule(s, t);
        QCOMPARE(alone.end[3][0], 13.0);
        // Ranks 0 and 1 share a one-slot device, 2 and 3 have their own: no overlap in a
        // chain, so sharing changes nothing.
        t.device_of = {0, 0, 1, 2};
        t.device_slots = {1, 1, 1};
        QCOMPARE(walk_schedule(s, t).end[3][0], 13.0);

        // Independent work: GPipe with 2 ranks, many microbatches, both ranks on one
        // single-slot device: the step takes the sum of all work, as on one core.
        const Schedule g = lowered(ScheduleKind::GPipe, 2, 8);
        WalkTiming u = unit_costs();
        const WalkResult apart = walk_schedule(g, u);
        u.device_of = {0, 0};
        u.device_slots = {1};
        const WalkResult shared = walk_schedule(g, u);
        double apart_end = 0, shared_end = 0;
        for (int r = 0; r < 2; ++r) {
            apart_end = std::max(apart_end, apart.end[r].back());
            shared_end = std::max(shared_end, shared.end[r].back());
        }
        QCOMPARE(shared_end, 2 * 8 * (1.0 + 2.0));  // every F (1) and B (2) of both ranks, serially
        QVERIFY(apart_end < shared_end);
        u.device_slots = {2};  // two cores: as if apart
        const WalkResult two = walk_schedule(g, u);
        QCOMPARE(two.end[1].back(), apart.end[1].back());
    }

    // A deadlock leaves the walk incomplete, with where each rank stopped.
    void circularWaitIsIncomplete() {
        Schedule s = lowered(ScheduleKind::OneFOneB, 2, 2);
        std::swap(s.ranks[1][0], s.ranks[1][2]);  // rank 1 receives microbatch 1 first
        const WalkResult w = walk_schedule(s, WalkTiming{});
        QVERIFY(!w.complete);
        QCOMPARE(int(w.stuck_at.size()), 2);
        QVERIFY(validate_schedule(s).has_value());
    }

    // Recomputation: peak activations fall, the step grows by about one forward per
    // microbatch (uniform costs: F = 1, B = 2 per chunk, free communication).
    void recomputationTradesTimeForMemory() {
        RunConfig cfg;
        cfg.model.layers = 6;
        cfg.pipeline.schedule = ScheduleKind::OneFOneB;
        cfg.pipeline.stages = 4;
        cfg.pipeline.microbatches = 8;
        Plan plan = make_plan(cfg);
        const Timeline base = simulate(plan.schedule, plan.partition, plan.cost);
        const Schedule rc = add_recompute(plan.schedule, std::vector<bool>(4, true));
        QVERIFY(!validate_schedule(rc));
        const Timeline with = simulate(rc, plan.partition, plan.cost);
        const Stats a = compute_stats(base), b = compute_stats(with);
        double f_sum = 0;  // one forward per microbatch on the slowest rank
        for (int c = 0; c < 4; ++c) {
            double f = 0;
            for (int l = plan.partition.first_layer(c); l < plan.partition.end_layer(c); ++l)
                f += plan.cost.layers[l].fwd_us;
            f_sum = std::max(f_sum, f * 8);
        }
        const double extra = b.step_time_us - a.step_time_us;
        qInfo("step %.1f -> %.1f us (+%.1f, one forward per microbatch = %.1f)", a.step_time_us, b.step_time_us, extra,
              f_sum);
        QVERIFY(extra > 0.5 * f_sum && extra < 1.6 * f_sum);
        // Rank r holds 4 - r microbatches; with recomputation only one keeps its activations
        // (the one being recomputed or computed), the others their inputs.
        QVERIFY(b.ranks[0].peak_activation_bytes < a.ranks[0].peak_activation_bytes / 2);
        for (int r = 0; r < 4; ++r) {
            QVERIFY2(b.ranks[r].peak_activation_bytes <= a.ranks[r].peak_activation_bytes,
                     qPrintable(QString("rank %1: %2 vs %3")
                                    .arg(r)
                                    .arg(b.ranks[r].peak_activation_bytes)
                                    .arg(a.ranks[r].peak_activation_bytes)));
            QCOMPARE(b.ranks[r].peak_inflight_microbatches, a.ranks[r].peak_inflight_microbatches);
        }
    }

    // The validator explains a misplaced R with the dependency rule's words.
    void misplacedRecomputeIsExplained() {
        Schedule s = add_recompute(lowered(ScheduleKind::GPipe, 2, 2), {true, true});
        auto& row = s.ranks[1];
        const auto r = std::find(row.begin(), row.end(), Action{ActionKind::R, 1, 0});
        const auto b = std::find(row.begin(), row.end(), Action{ActionKind::B, 1, 0});
        std::iter_swap(r, b);
        const auto err = validate_schedule(s);
        QVERIFY(err.has_value());
        QVERIFY2(QString::fromStdString(err->message).contains("1B0 cannot come before 1R0: its recompute has not run"),
                 err->message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestWalk)
#include "tst_walk.moc"
