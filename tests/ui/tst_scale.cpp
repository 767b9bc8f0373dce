// Scale and readability, offscreen: the shared zoom state and its undo stack, the rank
// axis at p = 64, chunk shading from the run's chunk -> rank map.
#include <QApplication>
#include <QFontMetrics>
#include <QWheelEvent>
#include <QSignalSpy>
#include <QUndoStack>
#include <QTest>

#include "core/run_config.h"
#include "core/simulator.h"
#include "ui/experiment_doc.h"
#include "ui/gantt_plottable.h"
#include "ui/partition_editor.h"
#include "ui/timeline_chart.h"
#include "ui/zoom_state.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
Timeline simulated(ScheduleKind kind, int p, int m, int v, int layers) {
    RunConfig cfg;
    cfg.model.layers = layers;
    cfg.pipeline.schedule = kind;
    cfg.pipeline.stages = p;
    cfg.pipeline.microbatches = m;
    cfg.pipeline.chunks = v;
    const Plan plan = make_plan(cfg);
    return simulate(plan.schedule, plan.partition, plan.cost);
}

// Pixel y of every rank label the chart draws now, top to bottom.
QVector<double> labelYs(TimelineChart& chart) {
    QCPAxis* gy = chart.ganttRect()->axis(QCPAxis::atLeft);
    QVector<double> ys;
    for (double t : gy->tickVector()) ys.push_back(gy->coordToPixel(t));
    std::sort(ys.begin(), ys.end());
    return ys;
}

double minGap(const QVector<double>& ys) {
    double gap = 1e9;
    for (int i = 1; i < ys.size(); ++i) gap = std::min(gap, ys[i] - ys[i - 1]);
    return gap;
}
}  // namespace

class TstScale : public QObject {
    Q_OBJECT
private slots:
    void zoomStateClampsAndUndoes() {
        ZoomState z;
        z.setExtent(100, 8);
        QVERIFY(!z.canUndo());
        const ZoomRange fitted = z.range();
        QCOMPARE(fitted.r0, -0.5);
        QCOMPARE(fitted.r1, 7.5);
        z.zoomTime(0.5);
        z.zoomRanks(0.5);
        QVERIFY(z.canUndo());
        QCOMPARE(z.range().r1 - z.range().r0, 4.0);
        QVERIFY(std::abs((z.range().t1 - z.range().t0) - 0.5 * (fitted.t1 - fitted.t0)) < 1e-9);
        // Out of bounds: shifted back in, never past the rows or the step.
        z.setRankRange(6, 20);
        QCOMPARE(z.range().r1, 7.5);
        z.setTimeRange(-500, 10);
        QVERIFY(z.range().t0 >= -5.0 - 1e-9);
        // The two gestures above were one moment apart: one undo step.
        z.undo();
        QCOMPARE(z.range().r1 - z.range().r0, 4.0);
        QCOMPARE(z.range().r0, 1.5);
        z.undo();  // the rank zoom
        QCOMPARE(z.range().r1 - z.range().r0, 8.0);
        z.undo();  // the time zoom
        QCOMPARE(z.range(), fitted);
        QVERIFY(!z.canUndo());
        // Keyboard: the actions drive the same state.
        z.zoomInAction()->trigger();
        QVERIFY(z.range().t1 - z.range().t0 < fitted.t1 - fitted.t0);
        z.fitAction()->trigger();
        QCOMPARE(z.range(), fitted);
        z.undoAction()->trigger();
        QVERIFY(z.range() != fitted);
    }

    void sharedZoomMovesEveryChart() {
        const Timeline a = simulated(ScheduleKind::OneFOneB, 4, 8, 1, 8);
        const Timeline b = simulated(ScheduleKind::GPipe, 4, 8, 1, 8);
        ZoomState zoom;
        TimelineChart ca, cb;
        ca.setZoomState(&zoom);
        cb.setZoomState(&zoom);
        ca.setTimeline(a);
        cb.setTimeline(b);
        zoom.setExtent(std::max(a.step_time_us(), b.step_time_us()) / 1000.0, 4);
        QCOMPARE(ca.timeRange(), cb.timeRange());
        // A drag or wheel on one chart (its axis moves) moves the other, and the memory
        // plot under it.
        const QCPRange before = ca.timeRange();
        ca.ganttRect()->axis(QCPAxis::atBottom)->setRange(before.lower, before.lower + before.size() / 4);
        QCOMPARE(cb.timeRange(), ca.timeRange());
        QCOMPARE(cb.memoryRect()->axis(QCPAxis::atBottom)->range(), ca.timeRange());
        QVERIFY(ca.timeRange().size() < before.size());
        cb.ganttRect()->axis(QCPAxis::atLeft)->setRange(0.5, 2.5);
        QCOMPARE(ca.rankRange(), QCPRange(0.5, 2.5));
        zoom.undo();
        QCOMPARE(ca.timeRange(), before);
        QCOMPARE(cb.timeRange(), before);
        QCOMPARE(ca.rankRange(), QCPRange(-0.5, 3.5));
    }

    void rankLabelsNeverOverlapAtP64() {
        const Timeline tl = simulated(ScheduleKind::OneFOneB, 64, 64, 1, 64);
        TimelineChart chart;
        chart.resize(900, 600);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setTimeline(tl);
        chart.replot();
        const double labelH = QFontMetrics(chart.ganttRect()->axis(QCPAxis::atLeft)->tickLabelFont()).height();
        QCOMPARE(chart.rankRange(), QCPRange(-0.5, 63.5));  // fit: every rank
        QVERIFY2(chart.rankLabelStep() > 1, "64 rows in a few hundred pixels need thinned labels");
        QVector<double> ys = labelYs(chart);
        QVERIFY(ys.size() >= 4);
        QVERIFY2(minGap(ys) >= labelH, qPrintable(QStringLiteral("gap %1 < label %2").arg(minGap(ys)).arg(labelH)));

        // Zoomed to 8 ranks: every row labelled, rows tall, still no overlap.
        chart.zoomState()->setRankRange(10 - 0.5, 18 - 0.5);
        chart.replot();
        QCOMPARE(chart.rankLabelStep(), 1);
        ys = labelYs(chart);
        QCOMPARE(ys.size(), 8);
        QVERIFY(minGap(ys) >= labelH);
        QCOMPARE(chart.gantt()->lastDrawnRects() > 0, true);
        // Scrolling moves the rows under the labels: rank 17 leaves, 25 comes in.
        chart.zoomState()->panRanks(1.0);
        chart.replot();
        const QVector<double> ticks = chart.ganttRect()->axis(QCPAxis::atLeft)->tickVector();
        QVERIFY(!ticks.contains(10.0));
        QVERIFY(ticks.contains(25.0));
        chart.zoomState()->fit();
        QCOMPARE(chart.rankRange(), QCPRange(-0.5, 63.5));
    }

    void chunkShadeFollowsChunkRank() {
        // Two ranks, V-shape: chunks 0, 1 on ranks 0, 1; chunk 2 on rank 1, chunk 3 on 0.
        Timeline tl;
        tl.meta.stages = 2;
        tl.meta.chunks = 2;
        tl.meta.chunk_rank = {0, 1, 1, 0};
        tl.events = {{0, ActionKind::F, 0, 0, 0, 10},
                     {1, ActionKind::F, 1, 0, 10, 20},
                     {1, ActionKind::F, 2, 0, 20, 30},
                     {0, ActionKind::F, 3, 0, 30, 40}};
        GanttPlottable* g = nullptr;
        TimelineChart chart;
        chart.setTimeline(tl);
        g = chart.gantt();
        QCOMPARE(g->chunkSlot(0), 0);
        QCOMPARE(g->chunkSlot(1), 0);
        QCOMPARE(g->chunkSlot(2), 1);       // rank 1's second chunk
        QCOMPARE(g->chunkSlot(3), 1);       // rank 0's second chunk
        tl.meta.chunk_rank = {0, 1, 0, 1};  // interleaved
        chart.setTimeline(tl);
        QCOMPARE(chart.gantt()->chunkSlot(2), 1);
        // A map where c / p is wrong: rank 0 holds chunks 0 and 1, rank 1 chunks 2 and 3.
        tl.meta.chunk_rank = {0, 0, 1, 1};
        chart.setTimeline(tl);
        QCOMPARE(chart.gantt()->chunkSlot(1), 1);
        QCOMPARE(chart.gantt()->chunkSlot(2), 0);
        // Three chunks per rank, V then V: slot counts up per rank.
        tl.meta.chunks = 3;
        tl.meta.chunk_rank = {0, 1, 1, 0, 0, 1};
        chart.setTimeline(tl);
        QCOMPARE(chart.gantt()->chunkSlot(3), 1);
        QCOMPARE(chart.gantt()->chunkSlot(4), 2);
        QCOMPARE(chart.gantt()->chunkSlot(5), 2);
    }

    void partitionEditorZoomsOverLayersAtL256() {
        ExperimentDoc doc;
        RunConfig cfg;
        cfg.model.layers = 256;
        cfg.pipeline.stages = 8;
        cfg.pipeline.microbatches = 16;
        doc.reset(cfg);
        PartitionEditor ed(&doc);
        ed.resize(900, 150);
        ed.show();
        QVERIFY(QTest::qWaitForWindowExposed(&ed));
        const int n = static_cast<int>(doc.layers().size());
        QCOMPARE(ed.layersShown(), double(n));  // first view: every layer, < 4 px each
        QVERIFY(ed.geometry().cellWidth() < 4);

        // Ctrl+wheel about boundary 3 until layers are wide enough to aim at one.
        const int cut = ed.cuts()[3];
        for (int i = 0; i < 12; ++i) {
            QWheelEvent wheel(ed.boundaryPos(3), ed.mapToGlobal(ed.boundaryPos(3)), {}, {0, 120}, Qt::NoButton,
                              Qt::ControlModifier, Qt::NoScrollPhase, false);
            QApplication::sendEvent(&ed, &wheel);
        }
        QVERIFY2(ed.geometry().cellWidth() >= 20, qPrintable(QString::number(ed.geometry().cellWidth())));
        QVERIFY(ed.firstLayerShown() > 0);
        // The zoom kept boundary 3 on the strip, near where it was.
        QVERIFY(std::abs(ed.cutPos(cut).x() - ed.boundaryPos(3).x()) <= 1);
        QVERIFY(ed.boundaryPos(3).x() > 0 && ed.boundaryPos(3).x() < ed.width());

        // Still draggable when zoomed: one layer right is one cell, one undo step.
        QTest::mousePress(&ed, Qt::LeftButton, {}, ed.boundaryPos(3));
        QTest::mouseMove(&ed, ed.cutPos(cut + 1));
        QTest::mouseRelease(&ed, Qt::LeftButton, {}, ed.cutPos(cut + 1));
        QCOMPARE(ed.cuts()[3], cut + 1);
        QCOMPARE(doc.config().pipeline.boundaries[3], cut + 1);
        QCOMPARE(doc.undoStack()->count(), 1);

        // Wheel scrolls, clamped at the ends; 0 shows every layer again.
        for (int i = 0; i < 200; ++i) {
            QWheelEvent wheel(QPointF(100, 50), ed.mapToGlobal(QPointF(100, 50)), {}, {0, 120}, Qt::NoButton, {},
                              Qt::NoScrollPhase, false);
            QApplication::sendEvent(&ed, &wheel);
        }
        QCOMPARE(ed.firstLayerShown(), 0.0);
        QTest::keyClick(&ed, Qt::Key_0);
        QCOMPARE(ed.layersShown(), double(n));
        QCOMPARE(ed.firstLayerShown(), 0.0);
    }
};

QTEST_MAIN(TstScale)
#include "tst_scale.moc"
