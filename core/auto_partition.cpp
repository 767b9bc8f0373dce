#include "core/auto_partition.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>

#include "core/simulator.h"

namespace pipelab {

std::int64_t PartitionScore::max_peak_bytes() const {
    return peak_bytes.empty() ? 0 : *std::max_element(peak_bytes.begin(), peak_bytes.end());
}

int PartitionScore::max_peak_rank() const {
    return peak_bytes.empty()
               ? -1
               : static_cast<int>(std::max_element(peak_bytes.begin(), peak_bytes.end()) - peak_bytes.begin());
}

PartitionScore score_partition(const Schedule& s, const Partition& part, const CostModel& cost) {
    const Timeline tl = simulate(s, part, cost);
    PartitionScore sc;
    sc.step_us = tl.step_time_us();
    sc.peak_bytes.assign(static_cast<std::size_t>(s.n_ranks), 0);
    for (const MemorySample& m : tl.memory) {
        auto& peak = sc.peak_bytes[static_cast<std::size_t>(m.rank)];
        peak = std::max(peak, m.total());
    }
    return sc;
}

long long count_splits(int n, int k, long long limit) {
    // C(n-1, k-1) computed incrementally, stopping once past the limit.
    const long long a = n - 1, b = std::min(k - 1, n - k);
    if (k < 1 || n < k) return 0;
    long double c = 1;
    for (long long i = 1; i <= b; ++i) {
        c = c * static_cast<long double>(a - b + i) / static_cast<long double>(i);
        if (c > static_cast<long double>(limit)) return limit + 1;
    }
    return static_cast<long long>(std::llround(static_cast<double>(c)));
}

namespace {

// Search state shared by the exhaustive and the local search: every split simulated once,
// the fastest that fits and the one with the least memory.
class Search {
public:
    Search(const Schedule& s, const CostModel& cost, std::int64_t cap)
        : m_s(s), m_cost(cost), m_cap(cap), m_n(static_cast<int>(cost.layers.size())) {
        if (!cost.rank_device.empty()) {
            m_own = cost;
            m_own.rank_device.clear();
            m_own.device_slots.clear();
        }
    }

    // Lexicographic key: (does not fit, over-cap bytes or step time).
    struct Key {
        bool over = false;
        double value = 0;
        bool operator<(const Key& o) const {
            return over != o.over ? !over : value < o.value - 1e-9 * std::max(1.0, std::abs(value));
        }
    };

    Key eval(const std::vector<int>& bounds) {
        const auto it = m_seen.find(bounds);
        if (it != m_seen.end()) return it->second;
        Partition part;
        part.n_layers = m_n;
        part.bounds = bounds;
        const PartitionScore sc = score_partition(m_s, part, m_cost);
        ++m_r.evaluated;
        const std::int64_t peak = sc.max_peak_bytes();
        const bool over = m_cap > 0 && peak > m_cap;
        // Ranks sharing a device: when the shared device is the bottleneck, many splits
        // predict the same time; the one that would also be fastest on a device per rank
        // wins (a small weight, so it only orders near-ties).
        double value = sc.step_us;
        if (!m_own.layers.empty() && !over) value += kTieWeight * score_partition(m_s, part, m_own).step_us;
        const Key key{over, over ? static_cast<double>(peak) : value};
        if (m_r.least_memory.bounds.empty() || peak < m_r.min_cap_bytes) {
            m_r.least_memory = part;
            m_r.min_cap_bytes = peak;
        }
        if (!over && (!m_r.feasible || value < m_best_value - 1e-9 * value)) {
            m_best_value = value;
            m_r.feasible = true;
            m_r.best = part;
            m_r.score = sc;
        }
        if (m_seen.size() < 200000) m_seen.emplace(bounds, key);
        return key;
    }

    AutoPartitionResult finish() {
        if (!m_r.feasible && !m_r.least_memory.bounds.empty()) {
            const PartitionScore sc = score_partition(m_s, m_r.least_memory, m_cost);
            m_r.over_rank = sc.max_peak_rank();
            m_r.over_bytes = sc.max_peak_bytes();
            m_r.best = m_r.least_memory;
            m_r.score = sc;
        }
        return m_r;
    }

    int n_layers() const { return m_n; }
    AutoPartitionResult& result() { return m_r; }

private:
    const Schedule& m_s;
    const CostModel& m_cost;
    std::int64_t m_cap;
    int m_n;
    AutoPartitionResult m_r;
    std::map<std::vector<int>, Key> m_seen;
    CostModel m_own;  // the cost model with a device per rank (empty when it already is)
    double m_best_value = 0;
    static constexpr double kTieWeight = 0.02;
};

void enumerate(Search& search, int k) {
    const int n = search.n_layers();
    std::vector<int> b(static_cast<std::size_t>(k) + 1, 0);
    b[static_cast<std::size_t>(k)] = n;
    std::function<void(int)> rec = [&](int c) {  // choose bounds[c] for c = 1..k-1
        if (c == k) {
            search.eval(b);
            return;
        }
        for (int x = b[static_cast<std::size_t>(c) - 1] + 1; x <= n - (k - c); ++x) {
            b[static_cast<std::size_t>(c)] = x;
            rec(c + 1);
        }
    };
    rec(1);
}

// Moves cuts while the key improves (best improvement first).
void local_search(Search& search, std::vector<int> b, int max_rounds, int max_run) {
    const int k = static_cast<int>(b.size()) - 1;
    Search::Key cur = search.eval(b);
    for (int round = 0; round < max_rounds; ++round) {
        std::vector<int> best_b;
        Search::Key best = cur;
        const auto consider = [&](std::vector<int>& cand) {
            for (int c = 1; c <= k; ++c)
                if (cand[static_cast<std::size_t>(c)] <= cand[static_cast<std::size_t>(c) - 1]) return;
            const Search::Key key = search.eval(cand);
            if (key < best) {
                best = key;
                best_b = cand;
            }
        };
        // A run of neighbouring cuts c1..c2 moved together by one layer: moves a layer
        // from one chunk to another chunk further along, everything between unchanged.
        for (int c1 = 1; c1 < k; ++c1) {
            for (int c2 = c1; c2 < k && c2 < c1 + max_run; ++c2) {
                // A single cut also moves two layers at once: a multi-chunk schedule's step
                // time has plateaus a one-layer step cannot cross.
                for (int d : {-2, -1, 1, 2}) {
                    if ((d == -2 || d == 2) && c2 != c1) continue;
                    std::vector<int> cand = b;
                    for (int c = c1; c <= c2; ++c) cand[static_cast<std::size_t>(c)] += d;
                    consider(cand);
                }
            }
        }
        if (best_b.empty()) return;
        b = std::move(best_b);
        cur = best;
    }
}

std::vector<double> layer_weights(const CostModel& cost, double head_factor) {
    std::vector<double> w;
    for (const LayerCost& l : cost.layers) w.push_back(l.fwd_us + l.bwd_input_us + l.bwd_weight_us);
    if (!w.empty()) w.back() *= head_factor;
    return w;
}

}  // namespace

AutoPartitionResult exhaustive_partition(const Schedule& s, const CostModel& cost, std::int64_t cap) {
    const int n = static_cast<int>(cost.layers.size()), k = s.n_chunks();
    if (k < 1 || n < k)
        throw std::invalid_argument("auto-partition: " + std::to_string(n) + " layers cannot fill " +
                                    std::to_string(k) + " chunks");
    Search search(s, cost, cap);
    enumerate(search, k);
    search.result().exhaustive = true;
    return search.finish();
}

AutoPartitionResult auto_partition(const Schedule& s, const CostModel& cost, const AutoPartitionOptions& opts) {
    const int n = static_cast<int>(cost.layers.size()), k = s.n_chunks();
    if (k < 1 || n < k)
        throw std::invalid_argument("auto-partition: " + std::to_string(n) + " layers cannot fill " +
                                    std::to_string(k) + " chunks");
    if (count_splits(n, k, opts.max_exhaustive) <= opts.max_exhaustive)
        return exhaustive_partition(s, cost, opts.memory_cap_bytes);
    Search search(s, cost, opts.memory_cap_bytes);
    // Starting points: balanced by layer cost, with the last chunk lighter (it waits on the
    // critical path of every backward in many schedules), and equal layer counts.
    std::vector<std::vector<int>> starts;
    for (double f : {1.0, 1.3, 0.8}) starts.push_back(balanced_partition(layer_weights(cost, f), k).bounds);
    starts.push_back(balanced_partition(std::vector<double>(static_cast<std::size_t>(n), 1.0), k).bounds);
    // Climb from every start: each climb costs hundreds of simulations, but on
    // interleaved and V schedules the best basin is often not the best start's.
    for (const auto& start : starts) local_search(search, start, opts.max_rounds, opts.max_run);
    // Memory first when nothing fits: walk towards the least memory, then towards speed.
    if (!search.result().feasible && !search.result().least_memory.bounds.empty())
        local_search(search, search.result().least_memory.bounds, opts.max_rounds, opts.max_run);
    return search.finish();
}

std::int64_t parse_bytes(const std::string& text) {
    std::size_t pos = 0;
    double x = 0;
    try {
        x = std::stod(text, &pos);
    } catch (const std::exception&) {
        throw std::invalid_argument("expected a size such as 2GiB, 512MiB or 1000000, got \"" + text + "\"");
    }
    std::string unit = text.substr(pos);
    while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
    static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                            {"B", 1},
                                                            {"KiB", 1024.0},
                                                            {"MiB", 1024.0 * 1024},
                                                            {"GiB", 1024.0 * 1024 * 1024},
                                                            {"TiB", 1024.0 * 1024 * 1024 * 1024},
                                                            {"KB", 1e3},
                                                            {"MB", 1e6},
                                                            {"GB", 1e9},
                                                            {"TB", 1e12}};
    for (const auto& [name, mult] : kUnits) {
        if (unit != name) continue;
        const double bytes = x * mult;
        if (!std::isfinite(bytes) || bytes <= 0 || bytes > 9e18)
            throw std::invalid_argument("must be a positive size, got \"" + text + "\"");
        return static_cast<std::int64_t>(bytes);
    }
    throw std::invalid_argument("unknown unit \"" + unit + "\" in \"" + text +
                                "\" (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
}

std::string format_bytes(std::int64_t bytes) {
    char buf[48];
    const double b = static_cast<double>(bytes);
    if (b >= 1024.0 * 1024 * 1024)
        std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
    else
        std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(bytes));
    return buf;
}

}  // namespace pipelab
