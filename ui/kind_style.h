#pragma once
// Colours and names shared by every chart, the legend and the partition editor, chosen
// to read on light and dark palettes and on a projector (saturated, distinct hues).
#include <QColor>
#include <QString>

#include "core/action.h"

namespace pipelab::ui {

QColor kindColor(ActionKind kind);
// The colour-blind-safe palette (Okabe-Ito and Tol hues picked so every pair of kinds,
// and the first 8 ranks, stay apart under deuteranopia, protanopia's close cousin):
// kindColor() and rankColor() answer from it while on. Process-wide, like the application palette; redraw after a change.
void setColorBlindSafe(bool on);
bool colorBlindSafe();
QString kindName(ActionKind kind);  // "forward", "send activation", ...
QColor rankColor(int rank);         // categorical: 10 hues, or 8 safe ones in shades
// The colour of `base` on a rank's virtual chunk `virt` (0 = first) of an interleaved
// schedule: one shade darker per chunk, so every chunk of v > 2 is told apart.
QColor chunkShade(const QColor& base, int virt);
QColor idleColor(bool darkPalette);  // the bubble's hatch
bool isDark(const QColor& windowColor);
QString formatMs(double us);  // "12.34 ms" / "456 us"
QString formatMiB(double bytes);

}  // namespace pipelab::ui
