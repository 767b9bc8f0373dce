#include "core/kineto_rank.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

namespace pipelab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool in_step(const KinetoEvent& e, const StepSpan& s) { return e.ts >= s.start && e.ts < s.end; }

bool is_action_role(NameRole r) { return r == NameRole::Action || r == NameRole::RankAction || r == NameRole::Overlap; }

// The transfer kind an action sends or receives: F moves activations, B and I gradients.
std::optional<ActionKind> comm_kind(ActionKind compute, bool send) {
    if (compute == ActionKind::F) return send ? ActionKind::SEND_F : ActionKind::RECV_F;
    if (compute == ActionKind::B || compute == ActionKind::I) return send ? ActionKind::SEND_B : ActionKind::RECV_B;
    return std::nullopt;  // W sends nothing
}

// Gives each transfer without an action the one of its neighbour: a send belongs to the
// compute action around it or else the last one before it, a receive to the action
// around it or else the next one.
void attach_by_neighbour(const std::vector<TimedAction>& compute, std::vector<CommOp>& comm) {
    for (CommOp& op : comm) {
        if (op.id) continue;
        const TimedAction* owner = nullptr;
        for (const TimedAction& a : compute)
            if (comm_kind(a.action.kind, op.send) && op.start >= a.cpu_start && op.start < a.cpu_end) owner = &a;
        if (owner == nullptr && op.send) {
            for (const TimedAction& a : compute)
                if (comm_kind(a.action.kind, true) && a.cpu_end <= op.start) owner = &a;
        } else if (owner == nullptr) {
            for (auto it = compute.rbegin(); it != compute.rend(); ++it)
                if (comm_kind(it->action.kind, false) && it->cpu_start >= op.start) owner = &*it;
        }
        if (owner == nullptr) continue;
        op.id = Action{*comm_kind(owner->action.kind, op.send), owner->action.chunk, owner->action.microbatch};
        op.own_stage = owner->own_stage;
    }
}

// A compute range that waited for its input starts when the wait ended; one that posted
// its output ends where the post began.
void trim_to_transfers(std::vector<TimedAction>& compute, const std::vector<CommOp>& comm) {
    std::map<std::tuple<int, int, int>, const CommOp*> by_id;
    for (const CommOp& op : comm)
        if (op.id) by_id[{static_cast<int>(op.id->kind), op.id->chunk, op.id->microbatch}] = &op;
    const auto find = [&](ActionKind k, const Action& a) -> const CommOp* {
        const auto it = by_id.find({static_cast<int>(k), a.chunk, a.microbatch});
        return it == by_id.end() ? nullptr : it->second;
    };
    for (TimedAction& a : compute) {
        const auto recv = comm_kind(a.action.kind, false);
        if (!recv) continue;
        if (const CommOp* r = find(*recv, a.action); r && r->done > a.start && r->done < a.end) a.start = r->done;
        if (const CommOp* s = find(*comm_kind(a.action.kind, true), a.action);
            s && s->start > a.start && s->start < a.end)
            a.end = s->start;
    }
}

}  // namespace

RankReader::RankReader(const KinetoTrace& trace, const EventMapping& mapping) : m_trace(trace) {
    m_meaning.reserve(trace.names.size());
    for (const auto& n : trace.names) m_meaning.push_back(mapping.classify(n));
    for (const auto& e : trace.events)
        if (e.name >= 0 && is_action_role(m_meaning[static_cast<std::size_t>(e.name)].role)) m_annotated = true;
    find_steps();
}

void RankReader::find_steps() {
    std::vector<const KinetoEvent*> marks;
    for (const auto& e : m_trace.events)
        if (e.name >= 0 && m_meaning[static_cast<std::size_t>(e.name)].role == NameRole::Step) marks.push_back(&e);
    std::sort(marks.begin(), marks.end(), [](auto* a, auto* b) { return a->ts < b->ts; });
    if (!marks.empty()) {
        m_step_marks = true;
        long long next = 0;
        for (const KinetoEvent* e : marks) {
            const long long n = m_meaning[static_cast<std::size_t>(e->name)].step;
            const long long number = n >= 0 ? n : next;
            next = number + 1;
            const bool seen = std::any_of(m_steps.begin(), m_steps.end(), [&](auto& s) { return s.number == number; });
            if (!seen) m_steps.push_back({number, e->ts, e->end()});
        }
        return;
    }
    if (m_annotated) {
        // No step marks: a step begins wherever the rank's first action begins again.
        const KinetoEvent* first = nullptr;
        for (const auto& e : m_trace.events)
            if (e.name >= 0 && is_action_role(m_meaning[static_cast<std::size_t>(e.name)].role) &&
                (first == nullptr || e.ts < first->ts))
                first = &e;
        std::vector<double> starts;
        for (const auto& e : m_trace.events)
            if (e.name == first->name) starts.push_back(e.ts);
        std::sort(starts.begin(), starts.end());
        for (std::size_t i = 0; i < starts.size(); ++i)
            m_steps.push_back({static_cast<long long>(i), starts[i], i + 1 < starts.size() ? starts[i + 1] : kInf});
        return;
    }
    m_steps.push_back({0, -kInf, kInf});
}

std::string RankReader::steps_text() const {
    if (m_steps.empty()) return "none";
    std::vector<long long> n;
    for (const auto& s : m_steps) n.push_back(s.number);
    std::sort(n.begin(), n.end());
    bool consecutive = true;
    for (std::size_t i = 1; i < n.size(); ++i) consecutive = consecutive && n[i] == n[i - 1] + 1;
    if (consecutive && n.size() > 2) return std::to_string(n.front()) + "-" + std::to_string(n.back());
    std::string t;
    for (auto x : n) t += (t.empty() ? "" : ", ") + std::to_string(x);
    return t;
}

std::vector<TimedAction> RankReader::annotated_actions(const StepSpan& s, std::vector<std::string>& notes) const {
    std::vector<TimedAction> out;
    std::vector<double> bwd_starts, bwd_ends;  // autograd work, to split overlapped pairs
    std::map<std::string, int> unknown;
    for (const auto& e : m_trace.events) {
        if (e.name < 0 || !in_step(e, s)) continue;
        const NameMeaning& m = m_meaning[static_cast<std::size_t>(e.name)];
        if (m.role == NameRole::BackwardOp) {
            bwd_starts.push_back(e.ts);
            bwd_ends.push_back(e.end());
        } else if (m.role == NameRole::UnknownAction) {
            ++unknown[m_trace.names[static_cast<std::size_t>(e.name)]];
        } else if ((m.role == NameRole::Action && is_compute(m.action.kind)) || m.role == NameRole::RankAction) {
            out.push_back({m.action, m.role == NameRole::RankAction, e.ts, e.end(), e.ts, e.end()});
        }
    }
    std::sort(bwd_starts.begin(), bwd_starts.end());
    std::sort(bwd_ends.begin(), bwd_ends.end());
    int even_splits = 0;
    for (const auto& e : m_trace.events) {
        if (e.name < 0 || !in_step(e, s)) continue;
        const NameMeaning& m = m_meaning[static_cast<std::size_t>(e.name)];
        if (m.role != NameRole::Overlap) continue;
        // The sub-actions run one after the other inside the range. Where a forward meets a
        // backward, the autograd engine's first (or last) function marks the seam.
        std::vector<double> cut = {e.ts};
        for (std::size_t i = 1; i < m.sub.size(); ++i) {
            const double lo = cut.back(), hi = e.end();
            const bool f_then_b = m.sub[i - 1].kind == ActionKind::F && m.sub[i].kind != ActionKind::F;
            const bool b_then_f = m.sub[i - 1].kind != ActionKind::F && m.sub[i].kind == ActionKind::F;
            double at = lo + (hi - lo) / static_cast<double>(m.sub.size() - i + 1);
            bool found = false;
            if (f_then_b) {
                const auto it = std::lower_bound(bwd_starts.begin(), bwd_starts.end(), lo);
                if (it != bwd_starts.end() && *it < hi) at = *it, found = true;
            } else if (b_then_f) {
                auto it = std::lower_bound(bwd_ends.begin(), bwd_ends.end(), hi);
                if (it != bwd_ends.begin() && *std::prev(it) > lo) at = *std::prev(it), found = true;
            }
            even_splits += found ? 0 : 1;
            cut.push_back(at);
        }
        cut.push_back(e.end());
        for (std::size_t i = 0; i < m.sub.size(); ++i)
            out.push_back({m.sub[i], false, cut[i], cut[i + 1], cut[i], cut[i + 1]});
    }
    if (even_splits > 0)
        notes.push_back(std::to_string(even_splits) +
                        " overlapped action pair(s) split evenly (no autograd seam found)");
    for (const auto& [name, n] : unknown)
        notes.push_back("skipped " + std::to_string(n) + " \"" + name + "\": not an action PipeLab knows");
    return out;
}

std::vector<TimedAction> RankReader::inferred_actions(const StepSpan& s, std::vector<std::string>& notes) const {
    // Optimizer ranges are not pipeline work: their operators are left out.
    std::vector<std::pair<double, double>> masked;
    for (const auto& e : m_trace.events)
        if (e.name >= 0 && in_step(e, s) && m_meaning[static_cast<std::size_t>(e.name)].role == NameRole::Optimizer)
            masked.emplace_back(e.ts, e.end());
    // Top-level operators per thread: sorted by start (longest first), an operator inside
    // the previous top-level one's range is nested.
    std::vector<const KinetoEvent*> ops;
    for (const auto& e : m_trace.events)
        if (e.cat == KinetoCat::CpuOp && in_step(e, s)) ops.push_back(&e);
    std::sort(ops.begin(), ops.end(),
              [](auto* a, auto* b) { return std::tie(a->thread, a->ts, b->dur) < std::tie(b->thread, b->ts, a->dur); });
    std::vector<OpSpan> top;
    std::int32_t thread = -1;
    double open_end = -kInf;
    for (const KinetoEvent* e : ops) {
        if (e->thread != thread) thread = e->thread, open_end = -kInf;
        if (e->ts < open_end) continue;
        open_end = e->end();
        const bool hidden =
            std::any_of(masked.begin(), masked.end(), [&](auto& r) { return e->ts >= r.first && e->ts < r.second; });
        if (hidden) continue;
        const NameRole role = m_meaning[static_cast<std::size_t>(e->name)].role;
        OpSpan op{e->ts, e->end(), OpSpan::Forward};
        if (role == NameRole::BackwardOp) op.cls = OpSpan::Backward;
        if (role == NameRole::SendPost || role == NameRole::RecvPost) op.cls = OpSpan::Comm;
        top.push_back(op);
    }
    return infer_actions(std::move(top), notes);
}

std::vector<CommOp> RankReader::comm_ops(const StepSpan& s) const {
    struct Range {
        double start, end;
        bool used = false;
    };
    std::vector<Range> posts[2], spans[2];  // [0] receives, [1] sends
    for (const auto& e : m_trace.events) {
        if (e.name < 0 || !in_step(e, s)) continue;
        switch (m_meaning[static_cast<std::size_t>(e.name)].role) {
        case NameRole::SendPost: posts[1].push_back({e.ts, e.end()}); break;
        case NameRole::RecvPost: posts[0].push_back({e.ts, e.end()}); break;
        case NameRole::SendSpan: spans[1].push_back({e.ts, e.end()}); break;
        case NameRole::RecvSpan: spans[0].push_back({e.ts, e.end()}); break;
        default: break;
        }
    }
    std::vector<CommOp> out;
    for (int send = 0; send < 2; ++send) {
        auto& ps = posts[send];
        auto& ss = spans[send];
        const auto by_start = [](const Range& a, const Range& b) { return a.start < b.start; };
        std::sort(ps.begin(), ps.end(), by_start);
        std::sort(ss.begin(), ss.end(), by_start);
        // The backend's range starts inside the operator that posts it.
        for (Range& sp : ss) {
            auto it = std::upper_bound(ps.begin(), ps.end(), sp, by_start);
            // Posts may nest in others (a batched send and receive): look a few back.
            for (int tries = 0; it != ps.begin() && tries < 8; ++tries) {
                --it;
                if (it->used || sp.start > it->end) continue;
                it->used = sp.used = true;
                out.push_back({send == 1, it->start, it->end, std::max(it->end, sp.end), {}, false});
                break;
            }
        }
        for (const Range& p : ps)
            if (!p.used) out.push_back({send == 1, p.start, p.end, p.end, {}, false});
        for (const Range& sp : ss)
            if (!sp.used) out.push_back({send == 1, sp.start, sp.end, sp.end, {}, false});
    }
    std::sort(out.begin(), out.end(), [](const CommOp& a, const CommOp& b) { return a.start < b.start; });

    // PP:..SEND_F1 / PP:..RECV_B0 ranges name the transfers they post.
    for (const auto& e : m_trace.events) {
        if (e.name < 0 || !in_step(e, s)) continue;
        const NameMeaning& m = m_meaning[static_cast<std::size_t>(e.name)];
        if (m.role != NameRole::Action || !is_comm(m.action.kind)) continue;
        const bool send = m.action.kind == ActionKind::SEND_F || m.action.kind == ActionKind::SEND_B;
        for (CommOp& op : out) {
            if (op.id || op.send != send || op.start < e.ts || op.start >= e.end()) continue;
            op.id = m.action;
            break;
        }
    }
    return out;
}

void RankReader::device_times(RankStep& out) const {
    std::unordered_map<std::int64_t, std::pair<double, double>> kernels;  // correlation -> device range
    for (const auto& e : m_trace.events) {
        if (e.cat != KinetoCat::Kernel) continue;
        auto [it, fresh] = kernels.try_emplace(e.correlation, e.ts, e.end());
        if (!fresh) it->second = {std::min(it->second.first, e.ts), std::max(it->second.second, e.end())};
    }
    if (kernels.empty()) return;
    std::vector<std::pair<double, std::int64_t>> launches;  // (CPU time, correlation)
    for (const auto& e : m_trace.events)
        if (e.cat == KinetoCat::Runtime && e.correlation >= 0) launches.emplace_back(e.ts, e.correlation);
    std::sort(launches.begin(), launches.end());
    // The device range of the kernels launched in [from, to); nullopt when none.
    const auto device = [&](double from, double to) -> std::optional<std::pair<double, double>> {
        std::optional<std::pair<double, double>> r;
        for (auto it = std::lower_bound(launches.begin(), launches.end(), std::pair{from, INT64_MIN});
             it != launches.end() && it->first < to; ++it) {
            const auto k = kernels.find(it->second);
            if (k == kernels.end()) continue;
            r = r ? std::pair{std::min(r->first, k->second.first), std::max(r->second, k->second.second)} : k->second;
        }
        return r;
    };
    int moved = 0, kept = 0;
    for (TimedAction& a : out.compute) {
        if (const auto d = device(a.cpu_start, a.cpu_end))
            a.start = d->first, a.end = d->second, ++moved;
        else
            ++kept;
    }
    for (CommOp& op : out.comm) {
        if (const auto d = device(op.start, op.post_end)) {
            op.start = d->first;
            op.post_end = op.done = d->second;
        }
    }
    if (moved == 0) return;
    out.device_time = true;
    out.notes.push_back(
        "times are GPU time: " + std::to_string(moved) + " action(s) timed by the kernels they launched" +
        (kept ? ", " + std::to_string(kept) + " launched none and keep their CPU time" : std::string()));
}

RankStep RankReader::read_step(const StepSpan& s) const {
    RankStep out;
    out.compute = m_annotated ? annotated_actions(s, out.notes) : inferred_actions(s, out.notes);
    out.inferred = !m_annotated;
    std::sort(out.compute.begin(), out.compute.end(),
              [](const TimedAction& a, const TimedAction& b) { return a.start < b.start; });
    out.comm = comm_ops(s);
    attach_by_neighbour(out.compute, out.comm);
    trim_to_transfers(out.compute, out.comm);
    device_times(out);

    // Memory: the device's allocator when it reports, else the host's.
    bool device_memory = false;
    for (const auto& mp : m_trace.memory)
        if (mp.ts >= s.start && mp.ts < s.end && mp.device_type != 0) device_memory = true;
    for (const auto& mp : m_trace.memory)
        if (mp.ts >= s.start && mp.ts < s.end && (mp.device_type != 0) == device_memory)
            out.memory.push_back({mp.ts, mp.allocated});
    std::stable_sort(out.memory.begin(), out.memory.end(), [](auto& a, auto& b) { return a.ts < b.ts; });
    return out;
}

}  // namespace pipelab
