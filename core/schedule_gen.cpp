#include "core/schedule_gen.h"

#include "core/walk.h"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

namespace pipelab {

namespace {
constexpr std::array<std::string_view, 4> kScheduleNames = {"gpipe", "1f1b", "interleaved", "zb"};

Schedule empty_schedule(std::string name, int p, int m, std::vector<int> chunk_rank) {
    Schedule s;
    s.name = std::move(name);
    s.n_ranks = p;
    s.n_microbatches = m;
    s.chunk_rank = std::move(chunk_rank);
    s.ranks.resize(static_cast<std::size_t>(p));
    return s;
}

std::vector<int> identity_ranks(int p) {
    std::vector<int> v(static_cast<std::size_t>(p));
    for (int i = 0; i < p; ++i) v[i] = i;
    return v;
}
}  // namespace

std::string_view to_string(ScheduleKind k) {
    const auto i = static_cast<std::size_t>(k);
    return i < kScheduleNames.size() ? kScheduleNames[i] : "?";
}

std::optional<ScheduleKind> parse_schedule_kind(std::string_view name) {
    for (std::size_t i = 0; i < kScheduleNames.size(); ++i)
        if (kScheduleNames[i] == name) return static_cast<ScheduleKind>(i);
    return std::nullopt;
}

std::string schedule_kind_names() {
    std::string s;
    for (auto n : kScheduleNames) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
}

std::optional<SpecProblem> check_schedule_spec(const ScheduleSpec& spec, int n_layers) {
    const int p = spec.stages, m = spec.microbatches, v = spec.chunks;
    using P = SpecProblem;
    if (p < 1) return P{"stages", "must be >= 1, got " + std::to_string(p)};
    if (m < 1) return P{"microbatches", "must be >= 1, got " + std::to_string(m)};
    if (v < 1) return P{"chunks", "must be >= 1, got " + std::to_string(v)};
    const std::string name(to_string(spec.kind));
    if (spec.kind != ScheduleKind::Interleaved && v != 1)
        return P{"chunks", name + " runs one chunk per stage, got " + std::to_string(v) +
                               " (use the interleaved schedule for chunks > 1)"};
    if (spec.kind == ScheduleKind::Interleaved) {
        if (v < 2)
            return P{"chunks", "interleaved needs chunks >= 2, got " + std::to_string(v) +
                                   " (with one chunk per stage use 1f1b)"};
        if (m % p != 0) {
            const int lower = (m / p) * p, upper = lower + p;
            return P{"microbatches", "interleaved needs a multiple of stages (" +
                                         std::to_string(p) + "), got " + std::to_string(m) +
                                         "; try " +
                                         (lower > 0 ? std::to_string(lower) + " or " : std::string()) +
                                         std::to_string(upper)};
        }
    }
    const long long n_chunks = 1LL * p * v;
    if (n_chunks * m > kMaxSlots)
        return P{"microbatches", "stages*chunks*microbatches = " + std::to_string(n_chunks * m) +
                                     " exceeds PipeLab's limit of " + std::to_string(kMaxSlots) +
                                     " (about " + std::to_string(4 * kMaxSlots / 1000000) +
                                     "M actions): lower one of them"};
    if (n_chunks > n_layers)
        return P{"stages", "stages*chunks = " + std::to_string(n_chunks) +
                               " chunks but the model has only " + std::to_string(n_layers) +
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

// Megatron-LM's interleaved 1F1B (forward_backward_pipelining_with_interleaving): rank r
// holds chunks r, r+p, ..., r+(v-1)p. Its k-th forward runs model chunk (k mod pv) / p on
// microbatch (k / pv) p + k mod p: groups of p microbatches per chunk. Backwards walk the
// chunks in reverse. Warm-up: 2(p-r-1) + (v-1)p forwards, then one forward per backward.
Schedule interleaved_order(int p, int m, int v) {
    std::vector<int> chunk_rank(static_cast<std::size_t>(p * v));
    for (int c = 0; c < p * v; ++c) chunk_rank[c] = c % p;
    Schedule s = empty_schedule("interleaved", p, m, std::move(chunk_rank));
    const int total = m * v;
    const int group = p * v;
    const auto microbatch = [&](int k) { return (k / group) * p + k % p; };
    const auto model_chunk = [&](int k, bool forward) {
        const int j = (k % group) / p;
        return forward ? j : v - 1 - j;
    };
    for (int r = 0; r < p; ++r) {
        auto& row = s.ranks[static_cast<std::size_t>(r)];
        const auto fwd = [&](int k) {
            row.push_back({ActionKind::F, model_chunk(k, true) * p + r, microbatch(k)});
        };
        const auto bwd = [&](int k) {
            row.push_back({ActionKind::B, model_chunk(k, false) * p + r, microbatch(k)});
        };
        const int warmup = std::min(2 * (p - r - 1) + (v - 1) * p, total);
        int k = 0;
        for (; k < warmup; ++k) fwd(k);
        for (int i = 0; k < total; ++k, ++i) {
            fwd(k);
            bwd(i);
        }
        for (int i = total - warmup; i < total; ++i) bwd(i);
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
    Schedule s = empty_schedule("zb", p, m, identity_ranks(p));
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
    const auto remote = [&](int from, int to) {
        return to >= 0 && to <= last && in.rank_of(from) != in.rank_of(to);
    };
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
    if (auto err = check_schedule_spec(spec, n_layers))
        throw std::invalid_argument(err->field + ": " + err->message);
    switch (spec.kind) {
    case ScheduleKind::GPipe: return add_send_recv(gpipe_order(spec.stages, spec.microbatches));
    case ScheduleKind::OneFOneB:
        return add_send_recv(one_f_one_b_order(spec.stages, spec.microbatches));
    case ScheduleKind::Interleaved:
        return add_send_recv(interleaved_order(spec.stages, spec.microbatches, spec.chunks));
    case ScheduleKind::ZeroBubble: return add_send_recv(zero_bubble_order(spec.stages, spec.microbatches));
    case ScheduleKind::NUM_SCHEDULES: break;
    }
    throw std::invalid_argument("unknown schedule");
}

}  // namespace pipelab
