// Opening a real PyTorch job in the app: two committed rank traces become one run in the
// history, read off the GUI thread; its order saves as a schedule file; a broken set of
// files shows the reason in the banner and leaves the window as it was.
#include <QAction>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/schedule.h"
#include "core/validate.h"
#include "ui/error_banner.h"
#include "ui/main_window.h"
#include "ui/run_history_model.h"
#include "ui/trace_importer.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
const QString kFixtures = QStringLiteral(PIPELAB_KINETO_FIXTURES);
}

class TstTraceImport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_tmp.path());
        QCoreApplication::setOrganizationName(QStringLiteral("PipeLabTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_trace_import"));
    }

    void twoRankTracesBecomeOneHistoryRow() {
        MainWindow w;
        w.show();
        const int before = w.history()->count();
        QSignalSpy imported(&w, &MainWindow::traceImported);
        QVERIFY(w.openTraces({kFixtures + "/1f1b_rank0.json.gz", kFixtures + "/1f1b_rank1.json.gz"}));
        // Read in the background: nothing has arrived when openTraces returns.
        QCOMPARE(w.history()->count(), before);
        QVERIFY(w.traceImporter()->isBusy());
        QVERIFY(imported.wait(30000));
        QCOMPARE(w.history()->count(), before + 1);

        const RunPtr run = w.history()->run(w.history()->count() - 1);
        QCOMPARE(w.currentRun(), run);
        const QString label = w.history()->data(w.history()->index(before, RunHistoryModel::Label)).toString();
        QVERIFY2(label.contains(QStringLiteral("1f1b p2 m4")) && label.contains(QStringLiteral("pytorch")),
                 qPrintable(label));
        QCOMPARE(run->source, QStringLiteral("1f1b_rank0.json.gz, 1f1b_rank1.json.gz"));
        QCOMPARE(run->stats.stages, 2);
        QVERIFY(run->stats.step_time_us > 0);
        QVERIFY(run->importNotes.join('\n').contains(QStringLiteral("order recognised as 1f1b")));
        QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("1f1b")));

        // The order the ranks ran saves as a schedule file that loads and validates.
        const QString path = m_tmp.filePath(QStringLiteral("order.json"));
        QVERIFY(w.saveImportedOrder(path));
        std::ifstream in(path.toStdString());
        const Schedule s = schedule_from_json(nlohmann::json::parse(in));
        QCOMPARE(s.name, std::string("1f1b"));
        QVERIFY(!validate_schedule(s));
    }

    void brokenFilesShowTheReason() {
        MainWindow w;
        w.show();
        const int before = w.history()->count();
        QSignalSpy failed(w.traceImporter(), &TraceImporter::failed);
        QVERIFY(w.openTraces({kFixtures + "/zb_rank0.json.gz"}));  // rank 1 is missing
        QVERIFY(failed.wait(30000));
        QVERIFY2(w.banner()->message().contains(QStringLiteral("no file for rank 1")),
                 qPrintable(w.banner()->message()));
        QCOMPARE(w.history()->count(), before);
        QVERIFY(!w.saveImportedOrder(m_tmp.filePath(QStringLiteral("none.json"))));  // nothing imported to save
    }

    // A newer request supersedes an older one still being read: only its run arrives.
    void newerImportWins() {
        MainWindow w;
        const int before = w.history()->count();
        QSignalSpy imported(&w, &MainWindow::traceImported);
        w.openTraces({kFixtures + "/zb_rank0.json.gz", kFixtures + "/zb_rank1.json.gz"});
        w.openTraces({kFixtures + "/gpipe_rank0.json.gz", kFixtures + "/gpipe_rank1.json.gz"});
        QVERIFY(imported.wait(30000));
        QTest::qWait(200);
        QCOMPARE(imported.count(), 1);
        QCOMPARE(w.history()->count(), before + 1);
        QVERIFY(w.currentRun()->source.startsWith(QStringLiteral("gpipe_rank0")));
    }

    void anotherStepOfTheSameJob() {
        MainWindow w;
        QSignalSpy imported(&w, &MainWindow::traceImported);
        const QStringList files{kFixtures + "/1f1b_rank0.json.gz", kFixtures + "/1f1b_rank1.json.gz"};
        QVERIFY(!w.openImportedStep(1));  // nothing imported yet: refused, no crash
        QVERIFY(w.openTraces(files));
        QVERIFY(imported.wait(30000));
        const RunPtr last = w.currentRun();
        QCOMPARE(last->importSteps, (std::vector<long long>{1, 2}));
        QCOMPARE(last->importStep, 2LL);  // default: the last step every rank completed
        QVERIFY(last->label().contains(QStringLiteral("step 2")));

        QVERIFY(!w.openImportedStep(7));  // no such step: the banner names the ones there are
        QVERIFY(w.findChild<ErrorBanner*>()->message().contains(QStringLiteral("has no step 7 (it has 1, 2)")));
        QCOMPARE(w.currentRun(), last);

        QVERIFY(w.openImportedStep(1));
        QVERIFY(imported.wait(30000));
        const RunPtr first = w.currentRun();
        QCOMPARE(first->importStep, 1LL);
        QCOMPARE(first->importPaths, files);
        QVERIFY(first->label().contains(QStringLiteral("step 1")));
        // Same job, same order, another step: its own times.
        QCOMPARE(first->importedOrder->ranks, last->importedOrder->ranks);
        QVERIFY(first->timeline.events.size() == last->timeline.events.size());
        QVERIFY(first->stats.step_time_us != last->stats.step_time_us);
    }

    void escCancelsAnImport() {
        // Big enough that the read is still going when Esc arrives (the flag is polled
        // every 4096 events).
        const QString big = m_tmp.filePath(QStringLiteral("big_rank0.json"));
        {
            std::ofstream out(big.toStdString());
            out << R"({"distributedInfo":{"rank":0,"world_size":1},"traceEvents":[)";
            for (int i = 0; i < 400000; ++i)
                out << (i ? "," : "") << R"({"ph":"X","cat":"cpu_op","name":"aten::mm","pid":1,"tid":1,"ts":)" << i
                    << R"(,"dur":1})";
            out << "]}";
        }
        MainWindow w;
        const int before = w.history()->count();
        QSignalSpy imported(&w, &MainWindow::traceImported);
        QSignalSpy failed(w.traceImporter(), &TraceImporter::failed);
        QSignalSpy cancelled(w.traceImporter(), &TraceImporter::cancelled);
        QAction* cancel = nullptr;
        for (QAction* a : w.findChildren<QAction*>())
            if (a->shortcut() == QKeySequence(Qt::Key_Escape)) cancel = a;
        QVERIFY(cancel);
        QVERIFY(!cancel->isEnabled());
        QVERIFY(w.openTraces({big}));
        QVERIFY(cancel->isEnabled());
        cancel->trigger();
        QVERIFY(cancelled.wait(30000));
        QCOMPARE(imported.count(), 0);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(w.history()->count(), before);
        QVERIFY(!w.traceImporter()->isBusy());
        QVERIFY(!cancel->isEnabled());
        QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("cancelled")));
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_MAIN(TstTraceImport)
#include "tst_trace_import.moc"
