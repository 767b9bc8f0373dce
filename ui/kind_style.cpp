#include "ui/kind_style.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace pipelab::ui {

namespace {
bool g_colorBlindSafe = false;

QColor colorBlindKindColor(ActionKind kind) {
    switch (kind) {
    case ActionKind::F: return QColor(0x00, 0x72, 0xb2);  // blue
    case ActionKind::B: return QColor(0xd5, 0x5e, 0x00);  // vermillion
    case ActionKind::I: return QColor(0xcc, 0x79, 0xa7);  // reddish purple
    case ActionKind::W: return QColor(0xf0, 0xe4, 0x42);  // yellow
    case ActionKind::R: return QColor(0x11, 0x77, 0x33);  // green
    case ActionKind::SEND_F:
    case ActionKind::RECV_F: return QColor(0xdd, 0xcc, 0x77);  // sand
    case ActionKind::SEND_B:
    case ActionKind::RECV_B: return QColor(0x88, 0x22, 0x55);  // wine
    case ActionKind::NUM_KINDS: break;
    }
    return Qt::gray;
}
}  // namespace

void setColorBlindSafe(bool on) { g_colorBlindSafe = on; }
bool colorBlindSafe() { return g_colorBlindSafe; }

QColor kindColor(ActionKind kind) {
    if (g_colorBlindSafe) return colorBlindKindColor(kind);
    switch (kind) {
    case ActionKind::F: return QColor(0x3b, 0x82, 0xf6);  // blue
    case ActionKind::B: return QColor(0x22, 0xa5, 0x5a);  // green
    case ActionKind::I: return QColor(0x8b, 0x5c, 0xf6);  // violet
    case ActionKind::W: return QColor(0xf5, 0x9e, 0x0b);  // amber
    case ActionKind::R: return QColor(0x0e, 0xa5, 0xb0);  // teal
    case ActionKind::SEND_F:
    case ActionKind::RECV_F: return QColor(0x94, 0x6b, 0x4a);  // brown
    case ActionKind::SEND_B:
    case ActionKind::RECV_B: return QColor(0xdb, 0x27, 0x77);  // pink
    case ActionKind::NUM_KINDS: break;
    }
    return Qt::gray;
}

QString kindName(ActionKind kind) {
    switch (kind) {
    case ActionKind::F: return QStringLiteral("forward");
    case ActionKind::B: return QStringLiteral("backward");
    case ActionKind::I: return QStringLiteral("backward (input grad)");
    case ActionKind::W: return QStringLiteral("backward (weight grad)");
    case ActionKind::R: return QStringLiteral("recompute (forward again)");
    case ActionKind::SEND_F: return QStringLiteral("send activation");
    case ActionKind::RECV_F: return QStringLiteral("receive activation");
    case ActionKind::SEND_B: return QStringLiteral("send gradient");
    case ActionKind::RECV_B: return QStringLiteral("receive gradient");
    case ActionKind::NUM_KINDS: break;
    }
    return {};
}

QColor rankColor(int rank) {
    rank = rank < 0 ? 0 : rank;
    if (g_colorBlindSafe) {
        // Okabe-Ito without black (it vanishes on the dark palette) plus Tol's wine: every
        // pair stays apart under deuteranopia. Each further cycle of 8 is a shade darker,
        // so rank 8 is not rank 0's twin.
        static const std::array<QColor, 8> safe{
            QColor(0x00, 0x72, 0xb2), QColor(0xe6, 0x9f, 0x00), QColor(0x56, 0xb4, 0xe9), QColor(0x00, 0x9e, 0x73),
            QColor(0xf0, 0xe4, 0x42), QColor(0xd5, 0x5e, 0x00), QColor(0xcc, 0x79, 0xa7), QColor(0x88, 0x22, 0x55)};
        const auto n = static_cast<int>(safe.size());
        return safe[static_cast<std::size_t>(rank % n)].darker(100 + 30 * std::min(rank / n % 4, 3));
    }
    // Tableau 10: distinct for normal vision (ranks 2 and 4 merge under deuteranopia,
    // hence the safe set above).
    static const std::array<QColor, 10> colors{
        QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0xe1, 0x57, 0x59), QColor(0x76, 0xb7, 0xb2),
        QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48), QColor(0xb0, 0x7a, 0xa1), QColor(0xff, 0x9d, 0xa7),
        QColor(0x9c, 0x75, 0x5f), QColor(0xba, 0xb0, 0xac)};
    return colors[static_cast<std::size_t>(rank) % colors.size()];
}

QColor chunkShade(const QColor& base, int virt) {
    // 35 % per step (v = 2 keeps its familiar 135); capped so v = 8 does not go black.
    return virt <= 0 ? base : base.darker(100 + 35 * std::min(virt, 5));
}

QColor idleColor(bool darkPalette) { return darkPalette ? QColor(150, 150, 150, 110) : QColor(120, 120, 120, 90); }

bool isDark(const QColor& windowColor) { return windowColor.lightnessF() < 0.5; }

QString formatMs(double us) {
    if (std::abs(us) >= 1000.0) return QString::number(us / 1000.0, 'f', 2) + QStringLiteral(" ms");
    return QString::number(us, 'f', 1) + QStringLiteral(" \u00b5s");
}

QString formatMiB(double bytes) { return QString::number(bytes / (1024.0 * 1024.0), 'f', 2) + QStringLiteral(" MiB"); }

}  // namespace pipelab::ui
