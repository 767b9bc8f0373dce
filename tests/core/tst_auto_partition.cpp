// Auto-partition: the local search against every split on small cases, the memory cap and
// its smallest feasible value, and byte sizes.
#include <QtTest>

#include <random>

#include "core/auto_partition.h"
#include "core/run_config.h"
#include "core/schedule_gen.h"

using namespace pipelab;

namespace {

// Uneven layers: random block costs, a light embedding and a heavy head (like a large
// vocabulary), real activation bytes so memory differs between splits.
CostModel uneven_costs(int n_layers, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.5, 2.0);
    CostModel cm;
    for (int l = 0; l < n_layers; ++l) {
        const double f = l == 0 ? 0.1 : l == n_layers - 1 ? 4.0 * u(rng) : u(rng);
        cm.layers.push_back({f * 100, f * 110, f * 90, 1000 * (l + 1), 4096, 2048, 0});
    }
    cm.message_bytes = 512;
    cm.link = {3.0, 100.0};
    return cm;
}

}  // namespace

class TestAutoPartition : public QObject {
    Q_OBJECT
private slots:
    void localSearchMatchesExhaustive_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("v");
        QTest::addColumn<int>("L");
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
            for (int p : {2, 3, 4}) {
                for (int v : {1, 2}) {
                    for (int L : {6, 10, 12}) {
                        const ScheduleSpec spec{ScheduleKind(k), p, 2 * p, v};
                        if (check_schedule_spec(spec, L + 2)) continue;
                        if (count_splits(L + 2, p * v, 100000) > 4000) continue;  // keep the suite quick
                        QTest::newRow(
                            qPrintable(QString("%1 p=%2 v=%3 L=%4")
                                           .arg(QString::fromStdString(std::string(to_string(ScheduleKind(k)))))
                                           .arg(p)
                                           .arg(v)
                                           .arg(L)))
                            << k << p << v << L;
                    }
                }
            }
        }
    }
    // The exact answer (every split simulated) against the local search started from the
    // balanced splits: the same predicted step time, within 2 % where it misses.
    void localSearchMatchesExhaustive() {
        QFETCH(int, kind);
        QFETCH(int, p);
        QFETCH(int, v);
        QFETCH(int, L);
        const Schedule s = make_schedule({ScheduleKind(kind), p, 2 * p, v}, L + 2);
        const CostModel cm = uneven_costs(L + 2, static_cast<unsigned>(kind * 100 + p * 10 + L));
        const AutoPartitionResult exact = exhaustive_partition(s, cm);
        QVERIFY(exact.exhaustive && exact.feasible);
        QCOMPARE(exact.evaluated, count_splits(L + 2, p * v, 1LL << 40));
        AutoPartitionOptions opts;
        opts.max_exhaustive = 0;  // force the local search
        const AutoPartitionResult local = auto_partition(s, cm, opts);
        QVERIFY(!local.exhaustive && local.feasible);
        QVERIFY(local.score.step_us >= exact.score.step_us - 1e-6);
        QVERIFY2(local.score.step_us <= exact.score.step_us * 1.02,
                 qPrintable(QString("local %1 us, exact %2 us").arg(local.score.step_us).arg(exact.score.step_us)));
        // The default answers small cases exactly.
        const AutoPartitionResult def = auto_partition(s, cm);
        QVERIFY(def.exhaustive);
        QCOMPARE(def.score.step_us, exact.score.step_us);
    }

    // Beats a plain balance of summed layer costs where the schedule's shape matters.
    void neverWorseThanTheBalancedSplit() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 8, 1}, 12);
        const CostModel cm = uneven_costs(12, 7);
        std::vector<double> w;
        for (const LayerCost& l : cm.layers) w.push_back(l.fwd_us + l.bwd_input_us + l.bwd_weight_us);
        const PartitionScore bal = score_partition(s, balanced_partition(w, 4), cm);
        const AutoPartitionResult r = auto_partition(s, cm);
        QVERIFY(r.score.step_us <= bal.step_us);
    }

    void memoryCapAndTheSmallestThatWorks() {
        const Schedule s = make_schedule({ScheduleKind::GPipe, 3, 6, 1}, 10);
        const CostModel cm = uneven_costs(10, 3);
        const AutoPartitionResult free_ = exhaustive_partition(s, cm);
        // The smallest cap is the least largest-rank peak over every split.
        const std::int64_t least = free_.min_cap_bytes;
        QVERIFY(least > 0);
        const AutoPartitionResult at = exhaustive_partition(s, cm, least);
        QVERIFY(at.feasible);
        QVERIFY(at.score.max_peak_bytes() <= least);
        const AutoPartitionResult below = exhaustive_partition(s, cm, least - 1);
        QVERIFY(!below.feasible);
        QCOMPARE(below.min_cap_bytes, least);
        QVERIFY(below.over_rank >= 0 && below.over_bytes == least);
        // The local search finds the same smallest cap here.
        AutoPartitionOptions opts;
        opts.max_exhaustive = 0;
        opts.memory_cap_bytes = least - 1;
        const AutoPartitionResult local = auto_partition(s, cm, opts);
        QVERIFY(!local.feasible);
        QCOMPARE(local.min_cap_bytes, least);
        // A cap between the least and the fastest split's peak costs time.
        if (free_.score.max_peak_bytes() > least) {
            const AutoPartitionResult tight = exhaustive_partition(s, cm, free_.score.max_peak_bytes() - 1);
            QVERIFY(tight.feasible);
            QVERIFY(tight.score.step_us >= free_.score.step_us);
        }
    }

    void tooFewLayers() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 8, 1}, 12);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, auto_partition(s, uniform_cost_model(3, 1, 1, 1)));
    }

    void bytes() {
        QCOMPARE(parse_bytes("2GiB"), std::int64_t(2) << 30);
        QCOMPARE(parse_bytes("512 MiB"), std::int64_t(512) << 20);
        QCOMPARE(parse_bytes("1.5GB"), std::int64_t(1500000000));
        QCOMPARE(parse_bytes("1000"), std::int64_t(1000));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_bytes("2 parsecs"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_bytes("-1GiB"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_bytes("lots"));
        QCOMPARE(count_splits(14, 4, 1000), 286LL);
        QCOMPARE(count_splits(98, 16, 1000), 1001LL);
    }
};

QTEST_APPLESS_MAIN(TestAutoPartition)
#include "tst_auto_partition.moc"
