// The charts' time<->pixel mapping and the partition strip's layer<->pixel mapping.
#include <QTest>

#include "ui/partition_editor.h"
#include "ui/time_mapping.h"

using pipelab::ui::StripGeometry;
using pipelab::ui::TimeMapping;

class TstTimeMapping : public QObject {
    Q_OBJECT
private slots:
    void timeToX_data() {
        QTest::addColumn<double>("t0");
        QTest::addColumn<double>("t1");
        QTest::addColumn<double>("x0");
        QTest::addColumn<double>("width");
        QTest::addColumn<double>("t");
        QTest::addColumn<double>("x");
        QTest::newRow("identity") << 0.0 << 100.0 << 0.0 << 100.0 << 25.0 << 25.0;
        QTest::newRow("offset plot") << 0.0 << 100.0 << 50.0 << 200.0 << 50.0 << 150.0;
        QTest::newRow("zoomed window") << 10.0 << 20.0 << 0.0 << 1000.0 << 15.0 << 500.0;
        QTest::newRow("left of view") << 10.0 << 20.0 << 0.0 << 1000.0 << 5.0 << -500.0;
        QTest::newRow("negative start") << -5.0 << 5.0 << 10.0 << 100.0 << 0.0 << 60.0;
    }
    void timeToX() {
        QFETCH(double, t0);
        QFETCH(double, t1);
        QFETCH(double, x0);
        QFETCH(double, width);
        QFETCH(double, t);
        QFETCH(double, x);
        const TimeMapping m{t0, t1, x0, width};
        QCOMPARE(m.timeToX(t), x);
        QCOMPARE(m.xToTime(x), t);  // round trip
    }
    void clip() {
        const TimeMapping m{10, 20, 0, 100};
        const auto [a, b] = m.clippedX(0, 1000);
        QCOMPARE(a, -1.0);
        QCOMPARE(b, 101.0);
        const auto [c, d] = m.clippedX(12, 12.05);  // sub-pixel block keeps its width
        QCOMPARE(c, 20.0);
        QVERIFY(d - c < 1.0 && d > c);
    }
    // The limits TimelineChart::onRangeChanged puts on every zoom and pan (step = 100 ms:
    // the view may cover [-5, 105], at least 1e-4 ms of it).
    void clampToStep_data() {
        QTest::addColumn<double>("lower");
        QTest::addColumn<double>("upper");
        QTest::addColumn<double>("end");
        QTest::addColumn<double>("wantLower");
        QTest::addColumn<double>("wantUpper");
        QTest::newRow("inside: unchanged") << 20.0 << 40.0 << 100.0 << 20.0 << 40.0;
        QTest::newRow("the full limit") << -5.0 << 105.0 << 100.0 << -5.0 << 105.0;
        QTest::newRow("zoomed out too far") << -1000.0 << 1000.0 << 100.0 << -5.0 << 105.0;
        QTest::newRow("wider, off to one side") << 50.0 << 500.0 << 100.0 << -5.0 << 105.0;
        QTest::newRow("panned past the start") << -30.0 << -10.0 << 100.0 << -5.0 << 15.0;
        QTest::newRow("panned past the end") << 95.0 << 125.0 << 100.0 << 75.0 << 105.0;
        QTest::newRow("zoomed in too far") << 50.0 << 50.0 << 100.0 << 50.0 - 5e-5 << 50.0 + 5e-5;
        QTest::newRow("tiny at the start edge") << -5.0 << -5.0 << 100.0 << -5.0 << -5.0 + 1e-4;
        QTest::newRow("no step: as requested") << -30.0 << 500.0 << 0.0 << -30.0 << 500.0;
    }
    void clampToStep() {
        QFETCH(double, lower);
        QFETCH(double, upper);
        QFETCH(double, end);
        QFETCH(double, wantLower);
        QFETCH(double, wantUpper);
        const auto [lo, hi] = pipelab::ui::clampToStep(lower, upper, end);
        QCOMPARE(lo, wantLower);
        QCOMPARE(hi, wantUpper);
    }
    void strip_data() {
        QTest::addColumn<int>("nLayers");
        QTest::addColumn<double>("x");
        QTest::addColumn<int>("cut");
        QTest::addColumn<int>("layer");
        // 10 layers over [12, 112): 10 px per layer.
        QTest::newRow("left edge") << 10 << 12.0 << 0 << 0;
        QTest::newRow("inside layer 3") << 10 << 44.0 << 3 << 3;
        QTest::newRow("rounds up") << 10 << 47.0 << 4 << 3;
        QTest::newRow("right edge") << 10 << 112.0 << 10 << -1;
        QTest::newRow("beyond") << 10 << 500.0 << 10 << -1;
        QTest::newRow("before") << 10 << 0.0 << 0 << -1;
    }
    void strip() {
        QFETCH(int, nLayers);
        QFETCH(double, x);
        QFETCH(int, cut);
        QFETCH(int, layer);
        const StripGeometry g{nLayers, 12, 100};
        QCOMPARE(g.nearestCut(x), cut);
        QCOMPARE(g.layerAt(x), layer);
        QCOMPARE(g.cutToX(g.nearestCut(g.cutToX(cut))), g.cutToX(cut));
    }
};

QTEST_GUILESS_MAIN(TstTimeMapping)
#include "tst_time_mapping.moc"
