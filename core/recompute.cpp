#include "core/recompute.h"

#include <set>
#include <utility>

namespace pipelab {

Schedule add_recompute(const Schedule& in, const std::vector<bool>& recompute) {
    Schedule out = in;
    const auto chosen = [&](int c) { return c >= 0 && c < static_cast<int>(recompute.size()) && recompute[c]; };
    for (auto& row : out.ranks) {
        std::set<std::pair<int, int>> done;  // (chunk, mb) that have an R already
        for (const Action& a : row)
            if (a.kind == ActionKind::R) done.insert({a.chunk, a.microbatch});
        std::vector<Action> next;
        next.reserve(row.size() + row.size() / 3);
        for (const Action& a : row) {
            const bool backward = a.kind == ActionKind::B || a.kind == ActionKind::I;
            if (backward && chosen(a.chunk) && done.insert({a.chunk, a.microbatch}).second) {
                // Before the receive of this backward's output gradient, if it comes just before.
                std::size_t at = next.size();
                if (at > 0 && next[at - 1] == Action{ActionKind::RECV_B, a.chunk, a.microbatch}) --at;
                next.insert(next.begin() + static_cast<std::ptrdiff_t>(at),
                            Action{ActionKind::R, a.chunk, a.microbatch});
            }
            next.push_back(a);
        }
        row = std::move(next);
    }
    return out;
}

}  // namespace pipelab
