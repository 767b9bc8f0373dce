// The colour-blind-safe palette: every pair of action kinds, and of the first 8 ranks,
// stays apart when the colours pass through the Machado 2009 deuteranopia matrix
// (severity 1).
#include <QTest>

#include "ui/colour_vision.h"
#include "ui/kind_style.h"

using namespace pipelab;
using namespace pipelab::ui;

namespace {
// Kinds drawn in their own colour (send/receive pairs share one).
const ActionKind kKinds[] = {ActionKind::F, ActionKind::B,      ActionKind::I,     ActionKind::W,
                             ActionKind::R, ActionKind::SEND_F, ActionKind::SEND_B};
// Delta E 76 of 20: told apart at a glance on a small block, not merely side by side.
constexpr double kMinDistance = 20.0;

// The closest pair of kind colours as seen with deuteranopia.
std::tuple<double, ActionKind, ActionKind> closestUnderDeuteranopia() {
    std::tuple<double, ActionKind, ActionKind> worst{1e9, ActionKind::F, ActionKind::F};
    for (ActionKind a : kKinds)
        for (ActionKind b : kKinds)
            if (a < b) {
                const double d = colourDistance(simulateDeuteranopia(kindColor(a)), simulateDeuteranopia(kindColor(b)));
                if (d < std::get<0>(worst)) worst = {d, a, b};
            }
    return worst;
}
}  // namespace

class TstColourVision : public QObject {
    Q_OBJECT
private slots:
    void simulationIsTheMachadoMatrix() {
        // Greys stay grey (rows sum to 1); pure red and green collapse towards one hue.
        const QColor grey = simulateDeuteranopia(QColor(128, 128, 128));
        QVERIFY(std::abs(grey.red() - 128) <= 1 && std::abs(grey.green() - 128) <= 1 &&
                std::abs(grey.blue() - 128) <= 1);
        QVERIFY(colourDistance(simulateDeuteranopia(Qt::red), simulateDeuteranopia(QColor(0, 160, 0))) <
                0.3 * colourDistance(Qt::red, QColor(0, 160, 0)));
        QCOMPARE(colourDistance(Qt::white, Qt::white), 0.0);
        QVERIFY(std::abs(colourDistance(Qt::black, Qt::white) - 100.0) < 0.5);  // L* 0..100
    }

    void safePaletteKeepsKindsApart() {
        setColorBlindSafe(true);
        const auto [d, a, b] = closestUnderDeuteranopia();
        setColorBlindSafe(false);
        QVERIFY2(d >= kMinDistance,
                 qPrintable(
                     QStringLiteral("%1 and %2 are %3 apart under deuteranopia").arg(kindName(a), kindName(b)).arg(d)));
    }

    // The rank colours (memory lines, partition editor, stats table): the first 8 ranks
    // stay apart in the safe palette; Tableau 10's ranks 2 and 4 do not, which is why
    // the safe palette has its own.
    void safePaletteKeepsRanksApart() {
        auto closestRanks = [] {
            double worst = 1e9;
            for (int a = 0; a < 8; ++a)
                for (int b = a + 1; b < 8; ++b)
                    worst = std::min(
                        worst, colourDistance(simulateDeuteranopia(rankColor(a)), simulateDeuteranopia(rankColor(b))));
            return worst;
        };
        QVERIFY(closestRanks() < 5.0);
        setColorBlindSafe(true);
        const double safe = closestRanks();
        const bool cycleShaded = rankColor(8) != rankColor(0);
        setColorBlindSafe(false);
        QVERIFY2(safe >= 15.0, qPrintable(QStringLiteral("closest ranks %1 apart").arg(safe)));
        QVERIFY(cycleShaded);
    }

    void toggleSwitchesKindColours() {
        const QColor before = kindColor(ActionKind::F);
        setColorBlindSafe(true);
        QVERIFY(colorBlindSafe());
        QVERIFY(kindColor(ActionKind::F) != before);
        setColorBlindSafe(false);
        QCOMPARE(kindColor(ActionKind::F), before);
    }

    void screenshotSimulationMapsEveryPixel() {
        QImage img(4, 1, QImage::Format_ARGB32);
        img.setPixelColor(0, 0, Qt::red);
        img.setPixelColor(1, 0, Qt::red);
        img.setPixelColor(2, 0, QColor(0, 160, 0));
        img.setPixelColor(3, 0, Qt::white);
        const QImage out = simulateDeuteranopia(img);
        QCOMPARE(out.size(), img.size());
        QCOMPARE(out.pixel(0, 0), simulateDeuteranopia(QColor(Qt::red)).rgba());
        QCOMPARE(out.pixel(1, 0), out.pixel(0, 0));
        QCOMPARE(out.pixel(3, 0), QColor(Qt::white).rgba());
    }
};

QTEST_MAIN(TstColourVision)
#include "tst_colour_vision.moc"
