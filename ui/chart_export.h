#pragma once
// Chart and trace exports. Charts go out as PNG, SVG or PDF by the file's extension,
// rendered at a fixed size independent of the window (so exports are reproducible).
// Functions return an error message, empty on success: callers show it in the banner.
#include <QString>

#include "core/timeline.h"

class QCustomPlot;

namespace pipelab::ui {

enum class ChartFormat { Png, Svg, Pdf };

bool chartFormatForPath(const QString& path, ChartFormat* format);
QString exportChart(QCustomPlot* plot, const QString& path, int width = 1600, int height = 1000);
QString exportTrace(const Timeline& tl, const QString& path);

}  // namespace pipelab::ui
