#include "core/action.h"

#include <array>
#include <charconv>

namespace pipelab {

namespace {
constexpr std::array<std::string_view, kNumActionKinds> kNames = {"F",      "B",      "I",      "W",     "R",
                                                                  "SEND_F", "RECV_F", "SEND_B", "RECV_B"};

// Reads a non-negative decimal; returns chars consumed (0 on failure).
std::size_t read_int(std::string_view s, std::int32_t& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || out < 0) return 0;
    return static_cast<std::size_t>(ptr - s.data());
}
}  // namespace

std::string_view to_string(ActionKind kind) {
    const auto i = static_cast<std::size_t>(kind);
    return i < kNames.size() ? kNames[i] : std::string_view("?");
}

std::optional<ActionKind> parse_action_kind(std::string_view text) {
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == text) return static_cast<ActionKind>(i);
    return std::nullopt;
}

std::string to_string(const Action& a) {
    std::string s = std::to_string(a.chunk);
    s += to_string(a.kind);
    s += std::to_string(a.microbatch);
    return s;
}

std::optional<Action> parse_action(std::string_view text) {
    Action a;
    const std::size_t n1 = read_int(text, a.chunk);
    if (n1 == 0) return std::nullopt;
    text.remove_prefix(n1);
    std::size_t k = 0;
    while (k < text.size() && (text[k] == '_' || (text[k] >= 'A' && text[k] <= 'Z'))) ++k;
    const auto kind = parse_action_kind(text.substr(0, k));
    if (!kind) return std::nullopt;
    a.kind = *kind;
    text.remove_prefix(k);
    const std::size_t n2 = read_int(text, a.microbatch);
    if (n2 == 0 || n2 != text.size()) return std::nullopt;
    return a;
}

}  // namespace pipelab
