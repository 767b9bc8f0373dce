#pragma once
// Small helpers shared by the core test suites.
#include <sstream>
#include <string>
#include <vector>

#include "core/schedule.h"

namespace pipelab::test {

// "0F0 0F1 0B0" -> actions; QFAIL-free: a bad token throws so the test errors loudly.
inline std::vector<Action> actions(const std::string& text) {
    std::vector<Action> out;
    std::istringstream in(text);
    std::string tok;
    while (in >> tok) {
        const auto a = parse_action(tok);
        if (!a) throw std::runtime_error("bad action in test text: " + tok);
        out.push_back(*a);
    }
    return out;
}

inline std::string text(const std::vector<Action>& row) {
    std::string s;
    for (const Action& a : row) s += (s.empty() ? "" : " ") + to_string(a);
    return s;
}

// Only the compute actions of a row, as text.
inline std::string compute_text(const std::vector<Action>& row) {
    std::vector<Action> c;
    for (const Action& a : row)
        if (is_compute(a.kind)) c.push_back(a);
    return text(c);
}

}  // namespace pipelab::test
