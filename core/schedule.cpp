#include "core/schedule.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pipelab {

std::size_t Schedule::action_count() const {
    std::size_t n = 0;
    for (const auto& r : ranks) n += r.size();
    return n;
}

nlohmann::json schedule_to_json(const Schedule& s) {
    nlohmann::json actions = nlohmann::json::array();
    for (const auto& rank : s.ranks) {
        nlohmann::json row = nlohmann::json::array();
        for (const Action& a : rank) row.push_back(to_string(a));
        actions.push_back(std::move(row));
    }
    return {{"name", s.name},
            {"stages", s.n_ranks},
            {"microbatches", s.n_microbatches},
            {"chunk_rank", s.chunk_rank},
            {"actions", std::move(actions)}};
}

Schedule schedule_from_json(const nlohmann::json& j) {
    const auto need = [&](const char* key) -> const nlohmann::json& {
        if (!j.is_object() || !j.contains(key))
            throw std::runtime_error(std::string("schedule: missing field \"") + key + "\"");
        return j.at(key);
    };
    const auto need_int = [&](const char* key, long long hi) {
        const auto& v = need(key);
        const long long x =
            v.is_number_integer() && !(v.is_number_unsigned() && v.get<unsigned long long>() > (1ULL << 62))
                ? v.get<long long>()
                : -1;
        if (x < 1 || x > hi)
            throw std::runtime_error(std::string("schedule: \"") + key + "\" must be an integer in 1.." +
                                     std::to_string(hi) + ", got " + v.dump());
        return static_cast<int>(x);
    };
    Schedule s;
    if (j.is_object() && j.contains("name")) {
        if (!j.at("name").is_string())
            throw std::runtime_error("schedule: \"name\" must be a string, got " + j.at("name").dump());
        s.name = j.at("name").get<std::string>();
    } else {
        s.name = "custom";
    }
    s.n_ranks = need_int("stages", kMaxRanks);
    s.n_microbatches = need_int("microbatches", kMaxMicrobatches);
    const auto& cr = need("chunk_rank");
    if (!cr.is_array() || cr.empty() || cr.size() > static_cast<std::size_t>(s.n_ranks) * kMaxChunksPerRank)
        throw std::runtime_error("schedule: \"chunk_rank\" must be a non-empty array of ranks, at most " +
                                 std::to_string(kMaxChunksPerRank) + " chunks per stage");
    if (static_cast<long long>(cr.size()) * s.n_microbatches > kMaxSlots)
        throw std::runtime_error("schedule: chunks x microbatches = " +
                                 std::to_string(static_cast<long long>(cr.size()) * s.n_microbatches) +
                                 " exceeds the limit of " + std::to_string(kMaxSlots));
    for (const auto& v : cr) {
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= s.n_ranks)
            throw std::runtime_error("schedule: \"chunk_rank\" entries must be ranks in 0.." +
                                     std::to_string(s.n_ranks - 1));
        s.chunk_rank.push_back(v.get<int>());
    }
    const auto& acts = need("actions");
    if (!acts.is_array() || static_cast<int>(acts.size()) != s.n_ranks)
        throw std::runtime_error("schedule: \"actions\" must hold one list per stage (" + std::to_string(s.n_ranks) +
                                 ")");
    for (std::size_t r = 0; r < acts.size(); ++r) {
        if (!acts[r].is_array())
            throw std::runtime_error("schedule: actions of rank " + std::to_string(r) + " must be an array of strings");
        std::vector<Action> row;
        row.reserve(acts[r].size());
        for (std::size_t i = 0; i < acts[r].size(); ++i) {
            const auto& t = acts[r][i];
            const auto a = t.is_string() ? parse_action(t.get<std::string>()) : std::nullopt;
            if (!a)
                throw std::runtime_error("schedule: rank " + std::to_string(r) + " action #" + std::to_string(i) +
                                         " is " + t.dump() + ", expected text like \"0F3\" or \"1SEND_B2\"");
            row.push_back(*a);
        }
        s.ranks.push_back(std::move(row));
    }
    return s;
}

std::string format_schedule(const Schedule& s, int mark_rank, int mark_index) {
    constexpr int kWindow = 8;  // actions shown either side of a marked one
    std::string out;
    for (int r = 0; r < static_cast<int>(s.ranks.size()); ++r) {
        const auto& row = s.ranks[static_cast<std::size_t>(r)];
        const int n = static_cast<int>(row.size());
        int lo = 0, hi = n;
        if (mark_rank >= 0) {
            const int centre = std::clamp(mark_index, 0, std::max(n - 1, 0));
            lo = std::max(0, centre - kWindow);
            hi = std::min(n, centre + kWindow + 1);
        }
        out += (r == mark_rank ? "> rank " : "  rank ") + std::to_string(r) + ":";
        if (lo > 0) out += " ...";
        for (int i = lo; i < hi; ++i) {
            const std::string a = to_string(row[static_cast<std::size_t>(i)]);
            out += (r == mark_rank && i == mark_index) ? " [" + a + "]" : " " + a;
        }
        if (r == mark_rank && mark_index >= n) out += " [end]";
        if (hi < n) out += " ...";
        out += '\n';
    }
    return out;
}

std::vector<int> chunk_slots(const std::vector<int>& chunk_rank) {
    std::vector<int> slots(chunk_rank.size(), 0);
    std::vector<int> seen;  // chunks met so far per rank
    for (std::size_t c = 0; c < chunk_rank.size(); ++c) {
        const int r = chunk_rank[c];
        if (r < 0) continue;
        if (static_cast<std::size_t>(r) >= seen.size()) seen.resize(static_cast<std::size_t>(r) + 1, 0);
        slots[c] = seen[static_cast<std::size_t>(r)]++;
    }
    return slots;
}

}  // namespace pipelab
