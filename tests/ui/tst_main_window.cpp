// The main window end to end, offscreen: a simulated run, a boundary drag that reruns,
// undo, exports parsed back, and bad files that leave the window usable.
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QSettings>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

#include "core/backend.h"
#include "core/trace_io.h"
#include "ui/compare_view.h"
#include "ui/error_banner.h"
#include "ui/experiment_doc.h"
#include "ui/gantt_plottable.h"
#include "ui/main_window.h"
#include "ui/partition_editor.h"
#include "ui/run_controller.h"
#include "ui/run_history_model.h"
#include "ui/step_bar.h"
#include "ui/timeline_chart.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
const QString kSamples = QStringLiteral(PIPELAB_SAMPLES);

// Runs (or waits for the run already started) and returns the run shown next.
RunPtr waitForRun(MainWindow& w, bool start = true) {
    QSignalSpy spy(&w, &MainWindow::runDisplayed);
    if (start) w.run();
    if (!spy.wait(20000)) return {};
    return w.currentRun();
}
}  // namespace

class TstMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        // Settings of this test live in a temporary folder, never the user's.
        QVERIFY(m_tmp.isValid());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_tmp.path());
        QCoreApplication::setOrganizationName(QStringLiteral("PipeLabTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_main_window"));
    }

    void simulatedRunHasOneBlockPerAction() {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        QVERIFY(w.openConfig(kSamples + QStringLiteral("/balanced_1f1b.json")));
        const RunPtr run = waitForRun(w);
        QVERIFY(run);
        QVERIFY(!run->timeline.events.empty());
        GanttPlottable* g = w.chart()->gantt();
        QCOMPARE(g->blockCount(), static_cast<int>(run->timeline.events.size()));
        QCOMPARE(g->rowCount(), 4);
        w.chart()->replot();
        QVERIFY(g->lastDrawnRects() > 0);
        QVERIFY(g->lastDrawnRects() <= g->blockCount());
        QCOMPARE(w.history()->rowCount(), 1);
        QVERIFY(w.banner()->isHidden());

        // Tooltip of the first action of rank 0 names it.
        const TimelineEvent& first = run->timeline.events.front();
        const double xMs = (first.start_us + first.end_us) / 2000.0;
        QCPAxisRect* r = w.chart()->ganttRect();
        const QPoint px(int(r->axis(QCPAxis::atBottom)->coordToPixel(xMs)),
                        int(r->axis(QCPAxis::atLeft)->coordToPixel(first.rank)));
        QVERIFY2(w.chart()->toolTipAt(px).contains(QStringLiteral("microbatch 0")), qPrintable(w.chart()->toolTipAt(px)));

        // Zoom one chart, the other follows; zooming out stops at the step.
        const double end = run->timeline.step_time_us() / 1000.0;
        r->axis(QCPAxis::atBottom)->setRange(0.25 * end, 0.5 * end);
        QCOMPARE(w.chart()->memoryRect()->axis(QCPAxis::atBottom)->range(), QCPRange(0.25 * end, 0.5 * end));
        w.chart()->memoryRect()->axis(QCPAxis::atBottom)->setRange(-10 * end, 10 * end);
        QCOMPARE(r->axis(QCPAxis::atBottom)->range(), QCPRange(-0.05 * end, 1.05 * end));

        // Step-through reveals a prefix of the actions.
        w.stepBar()->setShown(5);
        QCOMPARE(g->revealCount(), 5);
        w.stepBar()->setShown(g->blockCount());
        QCOMPARE(g->revealCount(), -1);
    }

    void boundaryDragRerunsAndUndoRestores() {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openConfig(kSamples + QStringLiteral("/balanced_1f1b.json")));
        const RunPtr before = waitForRun(w);
        QVERIFY(before);
        PartitionEditor* ed = w.partitionEditor();
        const std::vector<int> cuts0 = ed->cuts();
        QCOMPARE(cuts0.size(), std::size_t(3));
        QCOMPARE(before->partition.cuts(), cuts0);

        // Drag boundary 1 two layers left, passing through an intermediate position.
        const int target = cuts0[1] - 1 > cuts0[0] ? cuts0[1] - 1 : cuts0[1] + 1;
        QSignalSpy shown(&w, &MainWindow::runDisplayed);
        QTest::mousePress(ed, Qt::LeftButton, {}, ed->boundaryPos(1));
        QTest::mouseMove(ed, (ed->boundaryPos(1) + ed->cutPos(target)) / 2);
        QTest::mouseMove(ed, ed->cutPos(target));
        QTest::mouseRelease(ed, Qt::LeftButton, {}, ed->cutPos(target));
        std::vector<int> moved = cuts0;
        moved[1] = target;
        QCOMPARE(ed->cuts(), moved);
        QCOMPARE(w.doc()->config().pipeline.boundaries, moved);
        QCOMPARE(w.doc()->undoStack()->count(), 1);  // the drag is one undo step
        QVERIFY(shown.wait(20000));
        const RunPtr after = w.currentRun();
        QCOMPARE(after->partition.cuts(), moved);
        std::vector<int> bounds{0};
        bounds.insert(bounds.end(), moved.begin(), moved.end());
        bounds.push_back(after->partition.n_layers);
        QCOMPARE(after->timeline.meta.bounds, bounds);
        QVERIFY(after->timeline.step_time_us() != before->timeline.step_time_us());

        // Undo restores the partition, and the rerun shows it.
        w.doc()->undoStack()->undo();
        QCOMPARE(ed->cuts(), cuts0);
        QVERIFY(shown.wait(20000));
        QCOMPARE(w.currentRun()->partition.cuts(), cuts0);
        QCOMPARE(w.currentRun()->timeline.step_time_us(), before->timeline.step_time_us());

        // Keyboard alternative: Left moves the selected boundary; never empties a stage.
        ed->setFocus();
        ed->setSelectedBoundary(0);
        for (int i = 0; i < 20; ++i) QTest::keyClick(ed, Qt::Key_Left);
        QCOMPARE(ed->cuts()[0], 1);  // stage 0 keeps one layer
        for (int i = 0; i < 20; ++i) QTest::keyClick(ed, Qt::Key_Right);
        QCOMPARE(ed->cuts()[0], ed->cuts()[1] - 1);
        QVERIFY(shown.wait(20000));
    }

    void exportsParseBack() {
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        QVERIFY(w.openConfig(kSamples + QStringLiteral("/gpipe_memory.json")));
        const RunPtr run = waitForRun(w);
        QVERIFY(run);
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("c.png")), svg = dir.filePath(QStringLiteral("c.svg")),
                      pdf = dir.filePath(QStringLiteral("c.pdf")), trace = dir.filePath(QStringLiteral("t.json"));
        QVERIFY(w.exportCharts(png, 1200, 800));
        QVERIFY(w.exportCharts(svg, 1200, 800));
        QVERIFY(w.exportCharts(pdf, 1200, 800));
        QVERIFY(w.exportTrace(trace));

        QImage img(png);
        QVERIFY(!img.isNull());
        QCOMPARE(img.size(), QSize(1200, 800));
        int nonBackground = 0;  // the chart drew something
        for (int y = 0; y < img.height(); y += 7)
            for (int x = 0; x < img.width(); x += 7) nonBackground += img.pixel(x, y) != img.pixel(0, 0);
        QVERIFY(nonBackground > 100);

        QSvgRenderer r(svg);
        QVERIFY(r.isValid());
        QCOMPARE(r.viewBox(), QRect(0, 0, 1200, 800));
        QImage drawn(600, 400, QImage::Format_ARGB32);
        drawn.fill(Qt::white);
        {
            QPainter p(&drawn);
            r.render(&p);
        }
        int blue = 0;  // forward blocks made it into the drawing
        for (int y = 0; y < drawn.height(); ++y)
            for (int x = 0; x < drawn.width(); ++x) blue += drawn.pixelColor(x, y) == QColor(0x3b, 0x82, 0xf6);
        QVERIFY2(blue > 500, qPrintable(QString::number(blue)));
        if (qEnvironmentVariableIsSet("PIPELAB_KEEP_EXPORTS")) drawn.save(qEnvironmentVariable("PIPELAB_KEEP_EXPORTS") + "/svg.png");

        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.startsWith("%PDF-"));
        QVERIFY(bytes.contains("%%EOF"));
        QVERIFY(bytes.size() > 2000);

        const Timeline back = read_chrome_trace(trace.toStdString());
        QCOMPARE(back.events.size(), run->timeline.events.size());
        QCOMPARE(back.meta.stages, 4);

        // The exported trace opens as a run of its own.
        QVERIFY(w.openTrace(trace));
        QCOMPARE(w.currentRun()->source, trace);
        QCOMPARE(w.chart()->gantt()->blockCount(), static_cast<int>(back.events.size()));
        QVERIFY(!w.exportCharts(dir.filePath(QStringLiteral("c.bmp"))));  // unknown format: banner, no crash
        QVERIFY(!w.banner()->message().isEmpty());
    }

    void badFilesShowErrorAndKeepWindowUsable() {
        MainWindow w;
        w.show();
        QVERIFY(waitForRun(w));
        const RunConfig kept = w.doc()->config();
        QTemporaryDir dir;
        auto write = [&](const QString& name, const QByteArray& text) {
            QFile f(dir.filePath(name));
            f.open(QIODevice::WriteOnly);
            f.write(text);
            return f.fileName();
        };
        QVERIFY(!w.openConfig(write(QStringLiteral("bad.json"), "{\"pipeline\": {\"stages\": ")));
        QVERIFY(!w.banner()->isHidden());
        QVERIFY(!w.banner()->message().isEmpty());
        QVERIFY(!w.openConfig(write(QStringLiteral("zero.json"), "{\"pipeline\": {\"microbatches\": 0}}")));
        QVERIFY2(w.banner()->message().contains(QStringLiteral("pipeline.microbatches")), qPrintable(w.banner()->message()));
        QVERIFY(ExperimentDoc::sameConfig(w.doc()->config(), kept));
        QVERIFY(!w.openTrace(write(QStringLiteral("t.json"), "{\"traceEvents\": [{\"ph\": \"X\"}]}")));
        QVERIFY(!w.openTrace(dir.filePath(QStringLiteral("missing.json"))));
        QVERIFY(w.banner()->message().contains(QStringLiteral("missing.json")));

        // A config that parses but cannot run fails in the worker, not in the window.
        RunConfig bad = w.doc()->config();
        bad.pipeline.schedule = ScheduleKind::Interleaved;
        bad.pipeline.chunks = 2;
        bad.pipeline.microbatches = 6;
        w.doc()->edit(bad, QStringLiteral("bad"));
        QSignalSpy failed(w.controller(), &RunController::failed);
        w.run();
        QVERIFY(failed.wait(20000));
        QVERIFY(w.banner()->message().contains(QStringLiteral("microbatches")));

        // Still usable: undo and run again.
        w.doc()->undoStack()->undo();
        QVERIFY(waitForRun(w));
        QVERIFY(w.banner()->isHidden());
    }

    void compareTwoRuns() {
        MainWindow w;
        w.show();
        QVERIFY(w.openConfig(kSamples + QStringLiteral("/gpipe_memory.json")));
        QVERIFY(waitForRun(w));
        RunConfig c = w.doc()->config();
        c.pipeline.schedule = ScheduleKind::OneFOneB;
        w.doc()->edit(c, QStringLiteral("1f1b"));
        QVERIFY(waitForRun(w));
        QCOMPARE(w.history()->rowCount(), 2);
        w.compareRuns(0, 1);
        QCOMPARE(w.tabs()->currentWidget(), w.compareView());
        const QString diff = w.compareView()->diffText();
        QVERIFY2(diff.contains(QStringLiteral("step time")) && diff.contains(QStringLiteral("peak memory")), qPrintable(diff));
        QVERIFY(w.compareView()->chartA()->hasTimeline());
        // 1F1B holds fewer activations than GPipe at m = 16.
        QVERIFY(RunHistoryModel::peakMemory(*w.history()->run(1)) < RunHistoryModel::peakMemory(*w.history()->run(0)));

        // Runs of different length share one time scale.
        c.pipeline.microbatches = 4;
        w.doc()->edit(c, QStringLiteral("m = 4"));
        QVERIFY(waitForRun(w));
        w.compareRuns(0, 2);
        QCOMPARE(w.compareView()->chartA()->timeRange(), w.compareView()->chartB()->timeRange());
        QVERIFY(w.compareView()->chartB()->timeRange().upper >= w.history()->run(0)->stats.step_time_us / 1000.0);
    }

    void newerEditDropsOutdatedRun() {
        MainWindow w;
        QSignalSpy shown(&w, &MainWindow::runDisplayed);
        RunConfig c = w.doc()->config();
        c.pipeline.microbatches = 32;
        w.run();                      // outdated at once:
        w.doc()->edit(c, QStringLiteral("m"));
        w.run();
        QVERIFY(shown.wait(20000));
        QTest::qWait(100);
        QCOMPARE(shown.count(), 1);
        QCOMPARE(w.currentRun()->timeline.meta.microbatches, 32);
    }

    void realBackendRunsInBackgroundAndCancels() {
        bool haveCpu = false;
        for (const BackendInfo& b : list_backends()) haveCpu |= b.name == "cpu" && b.available;
        if (!haveCpu) QSKIP("CPU backend not built");
        MainWindow w;
        RunConfig c;
        c.model = {256, 64, 4, 4, 256, 32, 2};
        c.pipeline.stages = 2;
        c.pipeline.microbatches = 4;
        c.backend = "cpu";
        c.steps = 100000;  // far longer than the test: it must be cancelled
        w.doc()->reset(c);
        QSignalSpy progress(w.controller(), &RunController::progress);
        QSignalSpy cancelled(w.controller(), &RunController::cancelled);
        w.run();
        QVERIFY(w.controller()->isRunning());
        QVERIFY(progress.wait(20000));  // the GUI thread is free while it runs
        w.cancelRun();
        QVERIFY(cancelled.wait(20000));
        QVERIFY(!w.controller()->isRunning());
        QVERIFY(w.banner()->isHidden());  // a cancel is not an error
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_MAIN(TstMainWindow)
#include "tst_main_window.moc"
