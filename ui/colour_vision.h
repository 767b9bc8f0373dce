#pragma once
// How a colour looks to someone with deuteranopia (no green cones), after Machado,
// Oliveira and Fernandes 2009 at severity 1 (linear RGB), and how far apart two colours
// look (CIE76 distance in CIELAB). Used to check the colour-blind-safe palette and to
// render what a screenshot looks like to such a viewer.
#include <QColor>
#include <QImage>

namespace pipelab::ui {

QColor simulateDeuteranopia(const QColor& c);
QImage simulateDeuteranopia(const QImage& image);
double colourDistance(const QColor& a, const QColor& b);  // CIE76 delta E (about 2.3 = just noticeable)

}  // namespace pipelab::ui
