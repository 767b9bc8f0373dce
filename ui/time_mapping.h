#pragma once
// Time <-> pixel mapping of the charts, kept out of paint() so it is unit-tested
// (STYLE "time<->pixel math in a plain struct"; hotspot TimeLineData). Time is in the
// charts' unit (milliseconds); pixels are widget coordinates.
#include <algorithm>
#include <utility>

namespace pipelab::ui {

struct TimeMapping {
    double t0 = 0;     // visible time at x0
    double t1 = 1;     // visible time at x0 + width
    double x0 = 0;     // left pixel of the plot area
    double width = 1;  // pixels

    double span() const { return t1 - t0; }
    double timeToX(double t) const { return x0 + (t - t0) / span() * width; }
    double xToTime(double x) const { return t0 + (x - x0) / width * span(); }
    double timePerPixel() const { return span() / width; }

    // Pixel extent of [a, b] clipped to the plot area; width may be < 1 (sub-pixel).
    std::pair<double, double> clippedX(double a, double b) const {
        return {std::clamp(timeToX(a), x0 - 1, x0 + width + 1), std::clamp(timeToX(b), x0 - 1, x0 + width + 1)};
    }
};

// A requested window [lower, upper] kept within [lo, hi]: at most that wide, at least
// minSpan wide (about its centre), shifted (not shrunk) when it pokes out.
inline std::pair<double, double> clampWindow(double lower, double upper, double lo, double hi, double minSpan) {
    if (upper < lower) std::swap(lower, upper);
    if (upper - lower >= hi - lo) return {lo, hi};
    if (upper - lower < minSpan) {
        const double c = (lower + upper) / 2;
        lower = c - minSpan / 2;
        upper = c + minSpan / 2;
    }
    if (lower < lo) {
        upper += lo - lower;
        lower = lo;
    }
    if (upper > hi) {
        lower -= upper - hi;
        upper = hi;
    }
    return {lower, upper};
}

// The charts' zoom and pan limits (TimelineChart::onRangeChanged applies them to every
// wheel, drag and setRange): a requested time range [lower, upper] (ms) of a step that
// ends at `end` (ms) is kept within [-5 %, 105 %] of the step, at least a millionth of
// the step wide. end <= 0: nothing to keep in view, returned as requested.
inline std::pair<double, double> clampToStep(double lower, double upper, double end) {
    if (end <= 0) return {lower, upper};
    return clampWindow(lower, upper, -0.05 * end, 1.05 * end, end * 1e-6);
}

// The rank axis' zoom and scroll limits: a requested row range [lower, upper] (row
// coordinates, row r spans [r - 0.5, r + 0.5]) of `rows` rows is kept within the rows,
// at least one row tall.
inline std::pair<double, double> clampRanks(double lower, double upper, int rows) {
    if (rows <= 0) return {lower, upper};
    return clampWindow(lower, upper, -0.5, rows - 0.5, 1.0);
}

// Every how many rows a rank label is drawn so that labels `labelPx` tall never overlap
// on rows `rowPx` tall: 1, 2, 4, 8, ... (powers of two keep rank 0 and every multiple
// of the step labelled while zooming, so labels do not jump around).
inline int rankLabelStep(double rowPx, double labelPx) {
    int step = 1;
    while (step < (1 << 20) && step * rowPx < labelPx) step *= 2;
    return step;
}

}  // namespace pipelab::ui
