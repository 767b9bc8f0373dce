// GUI speed, offscreen. Prints figures; asserts nothing about time.
//   1. Replot of the Gantt + memory chart (default p=32, m=512, v=2 interleaved, 64
//      layers: ~100k blocks): full view, zoomed to 5 % of the step, and zoomed to 8 ranks.
//   2. A boundary drag (QTest mouse events) to the redrawn simulated timeline, p=8, m=32.
// Run: ./build/tests/bench/bench_gui [P M V LAYERS]   (v = 1: 1F1B, else interleaved;
// LAYERS >= P*V), e.g. `bench_gui 64 2048 4 256` for about a million blocks.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTest>

#include "core/run_config.h"
#include "core/simulator.h"
#include "app/builtin_backends.h"
#include "ui/experiment_doc.h"
#include "ui/gantt_plottable.h"
#include "ui/main_window.h"
#include "ui/partition_editor.h"
#include "ui/timeline_chart.h"
#include "ui/zoom_state.h"
#include "tests/bench/bench_util.h"

using namespace pipelab;
using namespace pipelab::ui;

using pipelab::bench::median;

namespace {}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM",
            qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen") : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("PipeLabBench"));
    pipelab::register_builtin_backends();
    int dims[4] = {32, 512, 2, 64};  // p, m, v, layers
    if (argc != 1 && argc != 5) {
        std::fprintf(stderr, "usage: %s [P M V LAYERS]\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; ++i) {
        dims[i - 1] = std::atoi(argv[i]);
        if (dims[i - 1] < 1) {
            std::fprintf(stderr, "bench_gui: argument %d ('%s') must be a positive integer\n", i, argv[i]);
            return 2;
        }
    }
    const int p = dims[0], m = dims[1], v = dims[2], layers = dims[3];

    {  // 1. Big Gantt replot.
        RunConfig cfg;
        cfg.model.layers = layers;  // + 2 partition units (embedding, head) >= p*v chunks
        cfg.pipeline = {v > 1 ? ScheduleKind::Interleaved : ScheduleKind::OneFOneB, p, m, v, {}, false, {}};
        QElapsedTimer t;
        t.start();
        Plan plan;
        try {
            plan = make_plan(cfg);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_gui: p=%d m=%d v=%d layers=%d: %s\n", p, m, v, layers, e.what());
            return 2;
        }
        const Timeline tl = simulate(plan.schedule, plan.partition, plan.cost);
        const double simMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
        TimelineChart chart;
        chart.resize(1600, 900);
        chart.show();
        t.restart();
        chart.setTimeline(tl);  // builds rows and replots once
        const double setMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
        std::vector<double> full, zoomed;
        for (int i = 0; i < 10; ++i) {
            t.restart();
            chart.replot();
            full.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        const int drawnFull = chart.gantt()->lastDrawnRects();
        const double end = tl.step_time_us() / 1000.0;
        chart.setTimeRange(0.4 * end, 0.45 * end);
        for (int i = 0; i < 10; ++i) {
            t.restart();
            chart.replot();
            zoomed.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        std::vector<double> ranks;
        chart.zoomState()->fit();
        chart.zoomState()->setRankRange(p / 2 - 0.5, p / 2 + 7.5);
        for (int i = 0; i < 10; ++i) {
            t.restart();
            chart.replot();
            ranks.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        std::printf("gantt p=%d m=%d v=%d layers=%d %s: %zu blocks, %zu memory samples (make_plan+simulate %.1f ms)\n",
                    p, m, v, layers, v > 1 ? "interleaved" : "1f1b", tl.events.size(), tl.memory.size(), simMs);
        std::printf("  setTimeline incl. first replot: %8.2f ms\n", setMs);
        std::printf("  replot, full view:              %8.2f ms median (%d rects drawn after merging)\n", median(full),
                    drawnFull);
        std::printf("  replot, 5%% of the step:         %8.2f ms median (%d rects drawn)\n", median(zoomed),
                    chart.gantt()->lastDrawnRects());
        std::printf("  replot, 8 ranks, whole step:    %8.2f ms median\n", median(ranks));
    }

    {  // 2. Drag -> redrawn simulated timeline.
        MainWindow w;
        w.resize(1600, 1000);
        w.show();
        RunConfig cfg;
        cfg.pipeline = {ScheduleKind::OneFOneB, 8, 32, 1, {}, false, {}};
        w.doc()->reset(cfg);
        {
            QEventLoop loop;
            QObject::connect(&w, &MainWindow::runDisplayed, &loop, &QEventLoop::quit);
            w.run();
            loop.exec();
        }
        PartitionEditor* ed = w.partitionEditor();
        std::vector<double> ms;
        for (int i = 0; i < 10; ++i) {
            const std::vector<int> cuts = ed->cuts();
            // Move boundary 3 one layer, alternating direction, within its neighbours.
            const int target = (i % 2 == 0) ? std::min(cuts[3] + 1, cuts[4] - 1) : std::max(cuts[3] - 1, cuts[2] + 1);
            QEventLoop loop;
            auto c = QObject::connect(&w, &MainWindow::runDisplayed, &loop, &QEventLoop::quit);
            QElapsedTimer t;
            QTest::mousePress(ed, Qt::LeftButton, {}, ed->boundaryPos(3));
            QTest::mouseMove(ed, ed->cutPos(target));
            t.start();
            QTest::mouseRelease(ed, Qt::LeftButton, {}, ed->cutPos(target));
            loop.exec();  // runDisplayed fires after the chart has replotted
            ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
            QObject::disconnect(c);
        }
        std::printf("drag release -> redrawn simulated timeline, p=8 m=32 (%zu actions): %.2f ms median, %.2f ms max\n",
                    w.currentRun()->timeline.events.size(), median(ms), *std::max_element(ms.begin(), ms.end()));
    }
    return 0;
}
