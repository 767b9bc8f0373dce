#pragma once
// Colours and names shared by every chart, the legend and the partition editor, chosen
// to read on light and dark palettes and on a projector (saturated, distinct hues).
#include <QColor>
#include <QString>

#include "core/action.h"

namespace pipelab::ui {

QColor kindColor(ActionKind kind);
QString kindName(ActionKind kind);    // "forward", "send activation", ...
QColor rankColor(int rank);           // categorical, repeats after 10
QColor idleColor(bool darkPalette);   // the bubble's hatch
bool isDark(const QColor& windowColor);
QString formatMs(double us);          // "12.34 ms" / "456 us"
QString formatMiB(double bytes);

}  // namespace pipelab::ui
