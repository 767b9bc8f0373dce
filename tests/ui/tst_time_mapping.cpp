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
    void zoomKeepsAnchor() {
        const TimeMapping m{0, 100, 0, 1000};
        const TimeMapping z = m.zoomed(4.0, 250.0);  // anchor at t = 25
        QCOMPARE(z.span(), 25.0);
        QCOMPARE(z.xToTime(250.0), 25.0);
        QCOMPARE(z.timePerPixel(), 0.025);
        const TimeMapping out = z.zoomed(0.25, 250.0);  // and back out
        QCOMPARE(out.t0, 0.0);
        QCOMPARE(out.t1, 100.0);
    }
    void panFollowsMouse() {
        const TimeMapping m{0, 100, 0, 1000};
        const TimeMapping p = m.panned(100);  // drag right by 100 px = 10 time units
        QCOMPARE(p.t0, -10.0);
        QCOMPARE(p.t1, 90.0);
        QCOMPARE(p.span(), m.span());
    }
    void clipAndOverlap() {
        const TimeMapping m{10, 20, 0, 100};
        QVERIFY(m.overlaps(5, 10));
        QVERIFY(m.overlaps(19, 30));
        QVERIFY(!m.overlaps(0, 9.9));
        QVERIFY(!m.overlaps(20.1, 30));
        const auto [a, b] = m.clippedX(0, 1000);
        QCOMPARE(a, -1.0);
        QCOMPARE(b, 101.0);
        const auto [c, d] = m.clippedX(12, 12.05);  // sub-pixel block keeps its width
        QCOMPARE(c, 20.0);
        QVERIFY(d - c < 1.0 && d > c);
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
