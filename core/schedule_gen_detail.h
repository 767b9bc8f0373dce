#pragma once
// Helpers the schedule generator files share (not part of the public API).
#include <string>
#include <vector>

#include "core/schedule.h"

namespace pipelab::detail {

inline Schedule empty_schedule(std::string name, int p, int m, std::vector<int> chunk_rank) {
    Schedule s;
    s.name = std::move(name);
    s.n_ranks = p;
    s.n_microbatches = m;
    s.chunk_rank = std::move(chunk_rank);
    s.ranks.resize(static_cast<std::size_t>(p));
    return s;
}

// Rounds of PyTorch's interleaved schedules: max(1, m / p); m must be a multiple of it.
inline int interleaved_rounds(int p, int m) { return std::max(1, m / p); }

}  // namespace pipelab::detail
