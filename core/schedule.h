#pragma once
// A Schedule is the IR every part of PipeLab shares: one ordered Action list per rank,
// plus the chunk -> rank map. No idle placeholders: the simulator finds the bubbles.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/action.h"

namespace pipelab {

// Limits every reader and generator enforces, so that no input can ask for unbounded
// memory or overflow an index. kMaxSlots caps (chunks x microbatches): about 4 actions
// each, so a schedule holds at most ~16M actions (~700 MB of timeline events).
inline constexpr int kMaxRanks = 1024;
inline constexpr int kMaxChunksPerRank = 64;
inline constexpr int kMaxMicrobatches = 65536;
inline constexpr long long kMaxSlots = 1LL << 22;

struct Schedule {
    std::string name;  // "gpipe", "1f1b", "interleaved", or "custom"
    int n_ranks = 0;
    int n_microbatches = 0;
    std::vector<int> chunk_rank;             // chunk -> rank, size n_chunks
    std::vector<std::vector<Action>> ranks;  // ranks[r] = actions of rank r, in order

    int n_chunks() const { return static_cast<int>(chunk_rank.size()); }
    int rank_of(int chunk) const { return chunk_rank[static_cast<std::size_t>(chunk)]; }
    std::size_t action_count() const;
};

// Each chunk's place among its rank's chunks, in chunk order: 0 for the first chunk a
// rank holds, 1 for its second, ... (interleaved: c / p; V-shape, where chunk c >= p sits
// on rank 2p-1-c: 0 below p, 1 from p). Ranks out of range count as their own slot 0.
std::vector<int> chunk_slots(const std::vector<int>& chunk_rank);

// {"name", "stages", "microbatches", "chunk_rank": [...], "actions": [["0F0", ...], ...]}
nlohmann::json schedule_to_json(const Schedule& s);
// Throws std::runtime_error naming the field / rank / action index that is malformed.
Schedule schedule_from_json(const nlohmann::json& j);

// One line per rank, actions separated by spaces. When mark_rank >= 0, the row is cut to a
// window around mark_index and that action is shown in brackets: errors point at it.
std::string format_schedule(const Schedule& s, int mark_rank = -1, int mark_index = -1);

}  // namespace pipelab
