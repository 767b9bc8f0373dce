#pragma once
// How many columns a legend can hold at a width so that every entry reads in full: a
// QCPLegend with a fixed wrap squeezes its columns when the chart is narrow (the
// first-start window, a laptop) and clips the text ("F forv"). Called before each
// replot, so a resize or new entries re-wrap.
#include <algorithm>

#include <qcustomplot.h>

namespace pipelab::ui {

// Columns of the widest entry that fit into `width` pixels, at least 1, at most `most`.
inline int legendColumnsFor(const QCPLegend& legend, int width, int most) {
    int widest = 1;
    for (int i = 0; i < legend.itemCount(); ++i)
        if (const QCPAbstractLegendItem* item = legend.item(i))
            widest = std::max(widest, item->minimumOuterSizeHint().width());
    const QMargins m = legend.margins();
    const int avail = width - m.left() - m.right();
    const int gap = legend.columnSpacing();
    return std::clamp((avail + gap) / (widest + gap), 1, std::max(most, 1));
}

// Re-wraps the legend for `width`; true when the wrap changed.
inline bool fitLegend(QCPLegend* legend, int width, int most) {
    if (!legend || legend->itemCount() == 0) return false;
    const int cols = legendColumnsFor(*legend, width, most);
    if (cols == legend->wrap()) return false;
    legend->setWrap(cols);
    legend->setFillOrder(legend->fillOrder(), true);  // re-fill the grid with the new wrap
    return true;
}

}  // namespace pipelab::ui
