#include "core/schedule_match.h"

#include <stdexcept>

namespace pipelab {

Schedule compute_only(const Schedule& s) {
    Schedule out = s;
    for (auto& row : out.ranks) std::erase_if(row, [](const Action& a) { return !is_compute(a.kind); });
    return out;
}

std::optional<ScheduleKind> recognise_schedule(const Schedule& order) {
    const int p = order.n_ranks, m = order.n_microbatches;
    if (p < 1 || m < 1 || order.n_chunks() % p != 0) return std::nullopt;
    const int v = order.n_chunks() / p;
    const Schedule mine = compute_only(order);
    for (int k = 0; k < static_cast<int>(ScheduleKind::NUM_SCHEDULES); ++k) {
        const ScheduleSpec spec{static_cast<ScheduleKind>(k), p, m, v};
        // Every chunk needs a layer: give the generators as many as there are chunks.
        if (check_schedule_spec(spec, p * v)) continue;
        Schedule gen;
        try {
            gen = compute_only(make_schedule(spec, p * v));
        } catch (const std::exception&) {
            continue;
        }
        if (gen.chunk_rank == mine.chunk_rank && gen.ranks == mine.ranks) return spec.kind;
    }
    return std::nullopt;
}

}  // namespace pipelab
