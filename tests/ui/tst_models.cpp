// Every Qt item model of the app under QAbstractItemModelTester, filled from a real
// simulated run, plus a printed dump compared with the Stats it wraps.
#include <QAbstractItemModelTester>
#include <QTest>
#include <QTransposeProxyModel>

#include "core/run_config.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "ui/rank_stats_model.h"
#include "ui/run_history_model.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
RunRecord simulated(int p, int m) {
    RunConfig cfg;
    cfg.pipeline.stages = p;
    cfg.pipeline.microbatches = m;
    const Plan plan = make_plan(cfg);
    RunRecord r;
    r.config = cfg;
    r.hasConfig = true;
    r.source = QStringLiteral("run");
    r.timeline = simulate(plan.schedule, plan.partition, plan.cost);
    r.stats = compute_stats(r.timeline);
    return r;
}
}  // namespace

class TstModels : public QObject {
    Q_OBJECT
private slots:
    void rankStats() {
        RankStatsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        const RunRecord r = simulated(4, 8);
        model.setRun(r.stats, r.timeline.meta);
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.columnCount(), int(RankStatsModel::NUM_COLUMNS));
        for (int row = 0; row < 4; ++row) {
            const RankStats& rs = r.stats.ranks[static_cast<std::size_t>(row)];
            QCOMPARE(model.index(row, RankStatsModel::Rank).data().toInt(), rs.rank);
            QCOMPARE(model.index(row, RankStatsModel::Busy).data(RankStatsModel::SortRole).toDouble(), rs.busy_us);
            QCOMPARE(model.index(row, RankStatsModel::PeakMemory).data(RankStatsModel::SortRole).toLongLong(),
                     static_cast<qlonglong>(rs.peak_memory_bytes));
            const double util = model.index(row, RankStatsModel::Utilisation).data(RankStatsModel::SortRole).toDouble();
            QVERIFY(util > 0 && util <= 1.0);
        }
        // 1F1B: rank r holds min(p - r, m) microbatches (PRIMER).
        QCOMPARE(model.index(0, RankStatsModel::InFlight).data().toInt(), 4);
        QCOMPARE(model.index(3, RankStatsModel::InFlight).data().toInt(), 1);
        // The statistics panel shows it transposed (stages as columns).
        QTransposeProxyModel transposed;
        QAbstractItemModelTester tester2(&transposed, QAbstractItemModelTester::FailureReportingMode::QtTest);
        transposed.setSourceModel(&model);
        QCOMPARE(transposed.columnCount(), 4);
        QCOMPARE(transposed.headerData(2, Qt::Horizontal).toString(), QStringLiteral("stage 2"));
        model.setRun(simulated(2, 4).stats, {});
        QCOMPARE(transposed.columnCount(), 2);
        QCOMPARE(model.rowCount(), 2);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }
    void runHistory() {
        RunHistoryModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const RunPtr a = model.add(simulated(4, 8));
        const RunPtr b = model.add(simulated(4, 16));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(a->number, 1);
        QCOMPARE(b->number, 2);
        QCOMPARE(model.index(1, 0).data(RunHistoryModel::RunRole).value<RunPtr>(), b);
        QVERIFY(model.index(0, RunHistoryModel::Label).data().toString().startsWith(QStringLiteral("#1 1f1b p4 m8")));
        QVERIFY(!model.run(5));
        QVERIFY(RunHistoryModel::peakMemory(*b) > 0);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TstModels)
#include "tst_models.moc"
