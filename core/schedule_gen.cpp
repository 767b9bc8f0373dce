#include "core/schedule_gen.h"

#include "core/schedule_gen_detail.h"
#include "core/walk.h"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

namespace pipelab {

namespace {
// Indexed by ScheduleKind.
constexpr std::array<std::string_view, static_cast<std::size_t>(ScheduleKind::NUM_SCHEDULES)> kScheduleNames = {
    "gpipe", "1f1b", "interleaved", "zb-greedy", "bfs", "interleaved-zb", "zb-h1", "zb-h2", "zb-v", "dualpipev"};

using detail::empty_schedule;

std::vector<int> identity_ranks(int p) {
    std::vector<int> v(static_cast<std::size_t>(p));
    for (int i = 0; i < p; ++i) v[i] = i;
    return v;
}

bool single_chunk(ScheduleKind k) {
    return k == ScheduleKind::GPipe || k == ScheduleKind::OneFOneB || k == ScheduleKind::ZeroBubble ||
           k == ScheduleKind::ZBH1 || k == ScheduleKind::ZBH2;
}
bool v_shaped(ScheduleKind k) { return k == ScheduleKind::ZBV || k == ScheduleKind::DualPipeV; }
bool rounds_rule(ScheduleKind k) { return k == ScheduleKind::Interleaved || k == ScheduleKind::InterleavedZB; }
bool rounds_ok(int p, int m) { return m % detail::interleaved_rounds(p, m) == 0; }
}  // namespace

std::string_view to_string(ScheduleKind k) {
    const auto i = static_cast<std::size_t>(k);
    return i < kScheduleNames.size() ? kScheduleNames[i] : "?";
}

std::optional<ScheduleKind> parse_schedule_kind(std::string_view name) {
    if (name == "zb") return ScheduleKind::ZeroBubble;
    for (std::size_t i = 0; i < kScheduleNames.size(); ++i)
        if (kScheduleNames[i] == name) return static_cast<ScheduleKind>(i);
    return std::nullopt;
}

std::string schedule_kind_names() {
    std::string s;
    for (auto n : kScheduleNames) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
}

int default_chunks(ScheduleKind k) { return v_shaped(k) ? 2 : 1; }

std::vector<int> v_chunk_ranks(int p) {
    std::vector<int> v(static_cast<std::size_t>(2 * p));
    for (int c = 0; c < 2 * p; ++c) v[c] = c < p ? c : 2 * p - 1 - c;
    return v;
}

std::vector<int> looped_chunk_ranks(int p, int v) {
    std::vector<int> out(static_cast<std::size_t>(p * v));
    for (int c = 0; c < p * v; ++c) out[c] = c % p;
    return out;
}

std::vector<int> chunk_placement(ScheduleKind k, int p, int v) {
    return v_shaped(k) && v == 2 ? v_chunk_ranks(p) : looped_chunk_ranks(p, v);
}

std::optional<SpecProblem> check_schedule_spec(const ScheduleSpec& spec, int n_layers) {
    const int p = spec.stages, m = spec.microbatches, v = spec.chunks;
    using P = SpecProblem;
    const auto s = [](long long x) { return std::to_string(x); };
    if (p < 1) return P{"stages", "must be >= 1, got " + s(p)};
    if (m < 1) return P{"microbatches", "must be >= 1, got " + s(m)};
    if (v < 1) return P{"chunks", "must be >= 1, got " + s(v)};
    if (spec.kind < ScheduleKind::GPipe || spec.kind >= ScheduleKind::NUM_SCHEDULES)
        return P{"schedule", "unknown schedule; known: " + schedule_kind_names()};
    const std::string name(to_string(spec.kind));
    if (single_chunk(spec.kind) && v != 1)
        return P{"chunks", name + " runs one chunk per stage, got " + s(v) +
                               " (for chunks > 1 use interleaved, interleaved-zb or bfs; zb-v or dualpipev for 2)"};
    if (v_shaped(spec.kind) && v != 2)
        return P{"chunks", name +
                               " places exactly two chunks per rank in a V (chunk c on rank c, chunk 2p-1-c "
                               "on rank c), got " +
                               s(v) + ": set chunks to 2"};
    if (spec.kind == ScheduleKind::DualPipeV && m < 2 * p)
        return P{"microbatches", "dualpipev needs at least 2*stages = " + s(2 * p) +
                                     " microbatches (as DeepSeek's DualPipeV and PyTorch's), got " + s(m) + ": use " +
                                     s(2 * p) + " or more"};
    if (spec.kind == ScheduleKind::Interleaved && v < 2)
        return P{"chunks", "interleaved needs chunks >= 2, got " + s(v) + " (with one chunk per stage use 1f1b)"};
    if (rounds_rule(spec.kind) && !rounds_ok(p, m)) {
        // PyTorch's rule: rounds = max(1, m / p) rounds of m / rounds microbatches each.
        int lower = m - 1, upper = m + 1;
        while (lower > 0 && !rounds_ok(p, lower)) --lower;
        while (!rounds_ok(p, upper)) ++upper;
        return P{"microbatches", name + " runs max(1, m/p) = " + s(detail::interleaved_rounds(p, m)) +
                                     " rounds of equal size (PyTorch's rule; Megatron's needs a multiple of " + s(p) +
                                     "), and " + s(m) + " is not a multiple of that; try " +
                                     (lower > 0 ? s(lower) + " or " : std::string()) + s(upper)};
    }
    const long long n_chunks = 1LL * p * v;
    if (n_chunks * m > kMaxSlots)
        return P{"microbatches", "stages*chunks*microbatches = " + s(n_chunks * m) + " exceeds PipeLab's limit of " +
                                     s(kMaxSlots) + " (about " + s(4 * kMaxSlots / 1000000) +
                                     "M actions): lower one of them"};
    if (n_chunks > n_layers)
        return P{"stages", "stages*chunks = " + s(n_chunks) + " chunks but the model has only " + s(n_layers) +
                               " layers (embedding + blocks + head); every chunk needs at least "
                               "one layer: add layers or lower stages/chunks"};
    return std::nullopt;
}

Schedule gpipe_order(int p, int m) {
    Schedule s = empty_schedule("gpipe", p, m, identity_ranks(p));
    for (int r = 0; r < p; ++r) {
        auto& row = s.ranks[static_cast<std::size_t>(r)];
        for (int mb = 0; mb < m; ++mb) row.push_back({ActionKind::F, r, mb});
        for (int mb = 0; mb < m; ++mb) row.push_back({ActionKind::B, r, mb});
    }
    return s;
}

Schedule one_f_one_b_order(int p, int m) {
    Schedule s = empty_schedule("1f1b", p, m, identity_ranks(p));
    for (int r = 0; r < p; ++r) {
        auto& row = s.ranks[static_cast<std::size_t>(r)];
        const int warmup = std::min(p - r - 1, m);
        int next_f = 0, next_b = 0;
        while (next_f < warmup) row.push_back({ActionKind::F, r, next_f++});
        while (next_f < m) {  // steady state: one forward, one backward
            row.push_back({ActionKind::F, r, next_f++});
            row.push_back({ActionKind::B, r, next_b++});
        }
        while (next_b < m) row.push_back({ActionKind::B, r, next_b++});
    }
    return s;
}

namespace {
// The dependency rules as the greedy zero-bubble order sees them: chunk c on rank c,
// every backward split into I and W, communication implicit.
class SplitBackwardLookup final : public DepLookup {
public:
    explicit SplitBackwardLookup(int p) : m_p(p) {}
    bool has(const Action& a) const override { return a.kind != ActionKind::B && a.kind != ActionKind::R; }
    bool lowered() const override { return false; }
    int n_chunks() const override { return m_p; }
    int rank_of(int chunk) const override { return chunk; }

private:
    int m_p;
};
}  // namespace

Schedule zero_bubble_order(int p, int m) {
    Schedule s = empty_schedule("zb-greedy", p, m, identity_ranks(p));
    // Next microbatch each rank runs F / I / W on. The walk asks a rank for its next action
    // whenever it is free, with unit-time actions and free communication.
    const auto P = static_cast<std::size_t>(p);
    std::vector<int> nf(P, 0), ni(P, 0), nw(P, 0);
    const PolicyFn policy = [&](int r, double, const ReadyFn& ready) -> std::optional<Action> {
        const Action i{ActionKind::I, r, ni[r]}, f{ActionKind::F, r, nf[r]}, w{ActionKind::W, r, nw[r]};
        if (ni[r] < m && ready(i)) return ++ni[r], i;
        if (nf[r] < m && nf[r] - nw[r] < 2 * p - 1 - r && ready(f)) return ++nf[r], f;
        if (nw[r] < m && ready(w)) return ++nw[r], w;
        return std::nullopt;
    };
    WalkTiming unit;
    unit.duration = [](int, const Action&) { return 1.0; };
    const WalkResult run = walk_policy(p, m, SplitBackwardLookup(p), policy, unit);
    if (!run.complete) throw std::logic_error("zero_bubble_order: the greedy stalled");  // cannot happen
    s.ranks = run.order;
    return s;
}

Schedule add_send_recv(const Schedule& in) {
    Schedule out = in;
    const int last = in.n_chunks() - 1;
    const auto remote = [&](int from, int to) { return to >= 0 && to <= last && in.rank_of(from) != in.rank_of(to); };
    for (std::size_t r = 0; r < in.ranks.size(); ++r) {
        auto& row = out.ranks[r];
        row.clear();
        row.reserve(in.ranks[r].size() * 2);
        for (const Action& a : in.ranks[r]) {
            const int c = a.chunk, mb = a.microbatch;
            if (a.kind == ActionKind::F) {
                if (remote(c, c - 1)) row.push_back({ActionKind::RECV_F, c, mb});
                row.push_back(a);
                if (remote(c, c + 1)) row.push_back({ActionKind::SEND_F, c, mb});
            } else if (is_backward(a.kind)) {
                if (remote(c, c + 1)) row.push_back({ActionKind::RECV_B, c, mb});
                row.push_back(a);
                if (remote(c, c - 1)) row.push_back({ActionKind::SEND_B, c, mb});
            } else {
                row.push_back(a);
            }
        }
    }
    return out;
}

Schedule split_backward(const Schedule& in, bool defer_w) {
    Schedule out = in;
    for (auto& row : out.ranks) {
        std::vector<Action> split, deferred;
        split.reserve(row.size() + row.size() / 2);
        for (const Action& a : row) {
            if (a.kind != ActionKind::B) {
                split.push_back(a);
                continue;
            }
            split.push_back({ActionKind::I, a.chunk, a.microbatch});
            (defer_w ? deferred : split).push_back({ActionKind::W, a.chunk, a.microbatch});
        }
        split.insert(split.end(), deferred.begin(), deferred.end());
        row = std::move(split);
    }
    return out;
}

Schedule make_schedule(const ScheduleSpec& spec, int n_layers) {
    if (auto err = check_schedule_spec(spec, n_layers)) throw std::invalid_argument(err->field + ": " + err->message);
    const int p = spec.stages, m = spec.microbatches, v = spec.chunks;
    switch (spec.kind) {
    case ScheduleKind::GPipe: return add_send_recv(gpipe_order(p, m));
    case ScheduleKind::OneFOneB: return add_send_recv(one_f_one_b_order(p, m));
    case ScheduleKind::Interleaved: return add_send_recv(interleaved_order(p, m, v));
    case ScheduleKind::ZeroBubble: return add_send_recv(zero_bubble_order(p, m));
    case ScheduleKind::LoopedBFS: return add_send_recv(looped_bfs_order(p, m, v));
    case ScheduleKind::InterleavedZB: return add_send_recv(interleaved_zb_order(p, m, v));
    case ScheduleKind::ZBH1: return add_send_recv(zb_h_order(p, m, 1));
    case ScheduleKind::ZBH2: return add_send_recv(zb_h_order(p, m, 2));
    case ScheduleKind::ZBV: return add_send_recv(zbv_order(p, m));
    case ScheduleKind::DualPipeV: return add_send_recv(dualpipev_order(p, m));
    case ScheduleKind::NUM_SCHEDULES: break;
    }
    throw std::invalid_argument("unknown schedule");
}

}  // namespace pipelab
