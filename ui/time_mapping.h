#pragma once
// Time <-> pixel mapping of the charts, kept out of paint() so it is unit-tested
// (STYLE "time<->pixel math in a plain struct"; hotspot TimeLineData). Time is in the
// charts' unit (milliseconds); pixels are widget coordinates.
#include <algorithm>

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
    bool overlaps(double a, double b) const { return b >= t0 && a <= t1; }

    // Zoom by `factor` (> 1 zooms in) keeping the time under pixel `anchorX` in place.
    TimeMapping zoomed(double factor, double anchorX) const {
        TimeMapping m = *this;
        const double anchor = xToTime(anchorX);
        m.t0 = anchor - (anchor - t0) / factor;
        m.t1 = anchor + (t1 - anchor) / factor;
        return m;
    }
    // Content follows the mouse: dragging right by dx shows earlier times.
    TimeMapping panned(double dxPixels) const {
        TimeMapping m = *this;
        const double dt = dxPixels * timePerPixel();
        m.t0 -= dt;
        m.t1 -= dt;
        return m;
    }
    // Pixel extent of [a, b] clipped to the plot area; width may be < 1 (sub-pixel).
    std::pair<double, double> clippedX(double a, double b) const {
        return {std::clamp(timeToX(a), x0 - 1, x0 + width + 1), std::clamp(timeToX(b), x0 - 1, x0 + width + 1)};
    }
};

}  // namespace pipelab::ui
