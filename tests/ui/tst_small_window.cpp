// The first-start window (about 1070x620, no saved layout), offscreen: every legend
// entry of the chart reads in full, as on a laptop screen; the colour-blind palette
// toggle, the explain toggles and their settings.
#include <QAction>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "app/builtin_backends.h"
#include "ui/app_settings.h"
#include "ui/kind_style.h"
#include "ui/main_window.h"
#include "ui/timeline_chart.h"
#include "ui/wait_overlay.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
const QString kSamples = QStringLiteral(PIPELAB_SAMPLES);

QList<QCPLegend*> legendsOf(QCustomPlot* plot) {
    QList<QCPLegend*> out;
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* l = qobject_cast<QCPLegend*>(plot->plotLayout()->elementAt(i))) out << l;
    return out;
}
}  // namespace

class TstSmallWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        register_builtin_backends();
        QVERIFY(m_tmp.isValid());  // no saved layout: a first start
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_tmp.path());
        QCoreApplication::setOrganizationName(QStringLiteral("PipeLabTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_small_window"));
    }

    void legendsReadInFull_data() {
        QTest::addColumn<QString>("sample");
        QTest::addColumn<QSize>("size");
        for (const char* s : {"balanced_1f1b.json", "zb_v.json", "interleaved.json"}) {
            QTest::addRow("%s first start", s) << QString::fromLatin1(s) << QSize(1070, 620);
            QTest::addRow("%s narrow", s) << QString::fromLatin1(s) << QSize(800, 600);
        }
    }

    void legendsReadInFull() {
        QFETCH(QString, sample);
        QFETCH(QSize, size);
        MainWindow w;
        w.resize(size);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openConfig(kSamples + QStringLiteral("/") + sample));
        QSignalSpy spy(&w, &MainWindow::runDisplayed);
        w.run();
        QVERIFY(spy.wait(20000));
        TimelineChart* chart = w.chart();
        chart->replot();
        const QList<QCPLegend*> legends = legendsOf(chart);
        QVERIFY(!legends.isEmpty());
        int items = 0;
        for (QCPLegend* l : legends) {
            for (int i = 0; i < l->itemCount(); ++i) {
                QCPAbstractLegendItem* it = l->item(i);
                if (!it) continue;  // an empty cell of the grid
                auto* pit = qobject_cast<QCPPlottableLegendItem*>(it);
                const QString text = pit ? pit->plottable()->name() : QString();
                // The item needs its hint's width for icon + full text; less = clipped.
                QVERIFY2(it->outerRect().width() >= it->minimumOuterSizeHint().width(),
                         qPrintable(QStringLiteral("'%1' gets %2 px of %3")
                                        .arg(text)
                                        .arg(it->outerRect().width())
                                        .arg(it->minimumOuterSizeHint().width())));
                QVERIFY2(it->outerRect().right() <= chart->width(), qPrintable(text));
                ++items;
            }
        }
        QVERIFY(items >= 3);
    }

    // View > Colour-blind-safe palette switches the kind colours and is kept for the
    // next start.
    void colourBlindPaletteIsKept() {
        const QColor normalF = kindColor(ActionKind::F);
        {
            MainWindow w;
            auto* act = w.findChild<QAction*>(QStringLiteral("colorBlindAction"));
            QVERIFY(act);
            QVERIFY(!act->isChecked());
            act->trigger();
            QVERIFY(colorBlindSafe());
            QVERIFY(kindColor(ActionKind::F) != normalF);
            QVERIFY(settings::colorBlindSafe.value());
        }
        setColorBlindSafe(false);
        {
            MainWindow w;  // a new start reads the setting
            QVERIFY(colorBlindSafe());
            auto* act = w.findChild<QAction*>(QStringLiteral("colorBlindAction"));
            QVERIFY(act->isChecked());
            act->trigger();
            QVERIFY(!colorBlindSafe());
            QCOMPARE(kindColor(ActionKind::F), normalF);
            QVERIFY(!settings::colorBlindSafe.value());
        }
    }

    // The memory plot's lines take the rank colours of the palette on show: stages 1 and
    // 2 of Tableau 10 merge under deuteranopia, so the safe palette recolours them too.
    void memoryLinesFollowThePalette() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openConfig(kSamples + QStringLiteral("/balanced_1f1b.json")));
        QSignalSpy spy(&w, &MainWindow::runDisplayed);
        w.run();
        QVERIFY(spy.wait(20000));
        auto penOf = [&](const QString& name) -> QColor {
            for (int i = 0; i < w.chart()->graphCount(); ++i)
                if (w.chart()->graph(i)->name() == name) return w.chart()->graph(i)->pen().color();
            return {};
        };
        QCOMPARE(penOf(QStringLiteral("stage 2")), rankColor(2));
        const QColor before = rankColor(2);
        auto* act = w.findChild<QAction*>(QStringLiteral("colorBlindAction"));
        act->trigger();
        QVERIFY(rankColor(2) != before);
        QCOMPARE(penOf(QStringLiteral("stage 2")), rankColor(2));
        act->trigger();
        QCOMPARE(penOf(QStringLiteral("stage 2")), before);
    }

    // Explain > critical path and idle labels are kept for the next start, like the
    // palette: a teacher sets them up once.
    void explainTogglesAreKept() {
        {
            MainWindow w;
            auto* critical = w.findChild<QAction*>(QStringLiteral("criticalPathAction"));
            auto* idle = w.findChild<QAction*>(QStringLiteral("idleLabelsAction"));
            QVERIFY(critical && idle);
            QVERIFY(!critical->isChecked());
            QVERIFY(idle->isChecked());
            critical->trigger();
            idle->trigger();
        }
        {
            MainWindow w;
            auto* critical = w.findChild<QAction*>(QStringLiteral("criticalPathAction"));
            auto* idle = w.findChild<QAction*>(QStringLiteral("idleLabelsAction"));
            QVERIFY(critical->isChecked());
            QVERIFY(!idle->isChecked());
            QVERIFY(w.chart()->waits()->criticalPathShown());
            QVERIFY(!w.chart()->waits()->idleLabelsShown());
            critical->trigger();
            idle->trigger();
            QVERIFY(!settings::criticalPath.value());
            QVERIFY(settings::idleLabels.value());
        }
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_MAIN(TstSmallWindow)
#include "tst_small_window.moc"
