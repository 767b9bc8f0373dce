#include "ui/colour_vision.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <QHash>

namespace pipelab::ui {

namespace {
double toLinear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
double toSrgb(double c) {
    c = std::clamp(c, 0.0, 1.0);
    return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1 / 2.4) - 0.055;
}

std::array<double, 3> linearRgb(const QColor& c) {
    return {toLinear(c.redF()), toLinear(c.greenF()), toLinear(c.blueF())};
}

std::array<double, 3> lab(const QColor& c) {
    const auto [r, g, b] = linearRgb(c);
    // sRGB (D65) -> XYZ -> CIELAB.
    const double x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    const double z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
    return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}
}  // namespace

QColor simulateDeuteranopia(const QColor& c) {
    static constexpr double m[3][3] = {
        {0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}};
    const auto l = linearRgb(c);
    double out[3];
    for (int i = 0; i < 3; ++i) out[i] = toSrgb(m[i][0] * l[0] + m[i][1] * l[1] + m[i][2] * l[2]);
    return QColor::fromRgbF(static_cast<float>(out[0]), static_cast<float>(out[1]), static_cast<float>(out[2]),
                            c.alphaF());
}

QImage simulateDeuteranopia(const QImage& image) {
    QImage out = image.convertToFormat(QImage::Format_ARGB32);
    // A screenshot has few distinct colours: convert each once.
    QHash<QRgb, QRgb> seen;
    for (int y = 0; y < out.height(); ++y) {
        auto* line = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < out.width(); ++x) {
            auto it = seen.constFind(line[x]);
            if (it == seen.constEnd())
                it = seen.insert(line[x], simulateDeuteranopia(QColor::fromRgba(line[x])).rgba());
            line[x] = *it;
        }
    }
    return out;
}

double colourDistance(const QColor& a, const QColor& b) {
    const auto la = lab(a), lb = lab(b);
    return std::hypot(la[0] - lb[0], la[1] - lb[1], la[2] - lb[2]);
}

}  // namespace pipelab::ui
