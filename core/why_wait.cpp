#include "core/why_wait.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>

#include "core/deps.h"

namespace pipelab {

const char* to_string(IdleCause c) {
    switch (c) {
    case IdleCause::WarmUp: return "warm-up";
    case IdleCause::CoolDown: return "cool-down";
    case IdleCause::Transfer: return "waiting for a transfer";
    case IdleCause::Imbalance: return "imbalance";
    case IdleCause::Other: return "idle";
    }
    return "idle";
}

namespace {

// Times within this of each other are "the same moment" (µs): clocks of measured runs
// and rounding in traces.
constexpr double kEps = 1e-3;

// The timeline's events as a schedule (per rank, in start order) and a way back from an
// action to its event.
struct TimelineSchedule {
    Schedule s;
    std::vector<std::vector<int>> per_rank;  // event indices per rank, in order
    std::unique_ptr<ScheduleIndex> index;

    explicit TimelineSchedule(const Timeline& tl) {
        int n_ranks = tl.meta.stages, n_chunks = static_cast<int>(tl.meta.chunk_rank.size()), m = tl.meta.microbatches;
        for (const TimelineEvent& e : tl.events) {
            n_ranks = std::max(n_ranks, e.rank + 1);
            n_chunks = std::max(n_chunks, e.chunk + 1);
            m = std::max(m, e.microbatch + 1);
        }
        s.name = tl.meta.schedule;
        s.n_ranks = n_ranks;
        s.n_microbatches = std::max(m, 1);
        s.chunk_rank = tl.meta.chunk_rank;
        s.chunk_rank.resize(static_cast<std::size_t>(n_chunks), -1);
        for (const TimelineEvent& e : tl.events)
            if (s.chunk_rank[static_cast<std::size_t>(e.chunk)] < 0)
                s.chunk_rank[static_cast<std::size_t>(e.chunk)] = e.rank;
        for (int& r : s.chunk_rank) r = std::max(r, 0);
        per_rank.resize(static_cast<std::size_t>(n_ranks));
        for (std::size_t i = 0; i < tl.events.size(); ++i)
            per_rank[static_cast<std::size_t>(tl.events[i].rank)].push_back(static_cast<int>(i));
        s.ranks.resize(static_cast<std::size_t>(n_ranks));
        for (int r = 0; r < n_ranks; ++r) {
            auto& idx = per_rank[static_cast<std::size_t>(r)];
            std::stable_sort(idx.begin(), idx.end(),
                             [&](int a, int b) { return tl.events[a].start_us < tl.events[b].start_us; });
            for (int i : idx) {
                const TimelineEvent& e = tl.events[static_cast<std::size_t>(i)];
                s.ranks[static_cast<std::size_t>(r)].push_back({e.kind, e.chunk, e.microbatch});
            }
        }
        index = std::make_unique<ScheduleIndex>(s);
    }

    int event_of(const Action& a) const {
        if (a.chunk < 0 || a.chunk >= s.n_chunks()) return -1;
        const int pos = index->position(a);
        if (pos < 0) return -1;
        const auto& row = per_rank[static_cast<std::size_t>(s.rank_of(a.chunk))];
        return pos < static_cast<int>(row.size()) ? row[static_cast<std::size_t>(pos)] : -1;
    }
    // The compute action whose output a send carries.
    int fed_by(const Action& send) const {
        for (const Dependency& d : dependencies(send, *index)) return event_of(d.action);
        return -1;
    }
};

}  // namespace

WaitAnalysis analyse_waits(const Timeline& tl) {
    WaitAnalysis w;
    w.events.resize(tl.events.size());
    if (tl.events.empty()) return w;
    const TimelineSchedule ts(tl);
    const auto& ev = tl.events;
    double t0 = std::numeric_limits<double>::infinity(), t1 = -t0;
    for (const TimelineEvent& e : ev) {
        t0 = std::min(t0, e.start_us);
        t1 = std::max(t1, e.end_us);
    }

    // Per event: its wait and what it waited for.
    for (std::size_t r = 0; r < ts.per_rank.size(); ++r) {
        double last_compute_end = t0;
        int prev = -1;
        for (int i : ts.per_rank[r]) {
            const TimelineEvent& e = ev[static_cast<std::size_t>(i)];
            EventWait& x = w.events[static_cast<std::size_t>(i)];
            x.prev = prev;
            prev = i;
            const Action a{e.kind, e.chunk, e.microbatch};
            double remote_arrival = -1;
            for (const Dependency& d : dependencies(a, *ts.index)) {
                const int de = ts.event_of(d.action);
                if (de < 0) continue;
                const TimelineEvent& dep = ev[static_cast<std::size_t>(de)];
                const bool local_recv = d.action.kind == ActionKind::RECV_F || d.action.kind == ActionKind::RECV_B;
                if (local_recv) {  // through this rank's receive, back to the sender
                    x.receive = de;
                    x.send = ts.event_of(comm_peer(d.action));
                    if (x.send >= 0) x.producer = ts.fed_by(comm_peer(d.action));
                    remote_arrival = dep.end_us;
                    if (x.send >= 0)
                        x.transfer_us = std::max(0.0, dep.end_us - ev[static_cast<std::size_t>(x.send)].end_us);
                } else if (a.kind == ActionKind::RECV_F || a.kind == ActionKind::RECV_B) {  // the send itself
                    x.send = de;
                    x.producer = ts.fed_by(d.action);
                    remote_arrival = e.end_us;
                    x.transfer_us = std::max(0.0, e.end_us - dep.end_us);
                } else if (d.message) {  // a compute-only timeline: the message is implied
                    x.producer = de;
                    remote_arrival = e.start_us;
                    x.transfer_us = std::max(0.0, e.start_us - dep.end_us);
                }
            }
            const bool recv = e.kind == ActionKind::RECV_F || e.kind == ActionKind::RECV_B;
            if (is_compute(e.kind)) {
                x.idle_us = std::max(0.0, e.start_us - last_compute_end);
                last_compute_end = e.end_us;
            } else if (recv) {
                x.idle_us = std::max(0.0, e.end_us - e.start_us);
            }
            const double began = recv ? e.end_us : e.start_us;
            x.waited_for_producer = x.producer >= 0 && x.idle_us > kEps && remote_arrival >= began - kEps;
            x.transfer_us = std::min(x.transfer_us, x.idle_us);
        }
    }

    // Idle stretches between compute actions, by cause. The pipeline fills until a rank's
    // first backward can start (its first gradient has to travel down the pipe and back)
    // and drains once the last forward of the step has run: waits there are warm-up and
    // cool-down, the schedule's own bubble, even on a perfectly balanced pipeline. Only
    // steady-state waits are blamed on a transfer or on a slower rank (imbalance).
    double last_forward = -std::numeric_limits<double>::infinity();
    for (const TimelineEvent& e : ev)
        if (e.kind == ActionKind::F) last_forward = std::max(last_forward, e.end_us);
    for (std::size_t r = 0; r < ts.per_rank.size(); ++r) {
        double first_backward = std::numeric_limits<double>::infinity();
        for (int i : ts.per_rank[r]) {
            const TimelineEvent& e = ev[static_cast<std::size_t>(i)];
            if (is_backward(e.kind)) first_backward = std::min(first_backward, e.start_us);
        }
        double from = t0;
        bool first = true;
        for (int i : ts.per_rank[r]) {
            const TimelineEvent& e = ev[static_cast<std::size_t>(i)];
            if (!is_compute(e.kind)) continue;
            if (e.start_us > from + kEps) {
                const EventWait& x = w.events[static_cast<std::size_t>(i)];
                IdleStretch s{static_cast<int>(r), from, e.start_us, IdleCause::Other, -1};
                if (first || e.start_us <= first_backward + kEps)
                    s.cause = IdleCause::WarmUp;
                else if (from >= last_forward - kEps)
                    s.cause = IdleCause::CoolDown;
                else if (x.waited_for_producer) {
                    s.cause = x.transfer_us >= 0.5 * (e.start_us - from) ? IdleCause::Transfer : IdleCause::Imbalance;
                    s.waiting_for = x.producer;
                }
                w.idle.push_back(s);
            }
            first = false;
            from = e.end_us;
        }
        if (!first && t1 > from + kEps) w.idle.push_back({static_cast<int>(r), from, t1, IdleCause::CoolDown, -1});
    }

    // The critical path: from the last event back, each step to what set its start.
    CriticalPath& cp = w.critical;
    int at = 0;
    for (std::size_t i = 1; i < ev.size(); ++i)
        if (ev[i].end_us > ev[static_cast<std::size_t>(at)].end_us) at = static_cast<int>(i);
    for (std::size_t guard = 0; at >= 0 && guard <= ev.size(); ++guard) {
        const TimelineEvent& e = ev[static_cast<std::size_t>(at)];
        const EventWait& x = w.events[static_cast<std::size_t>(at)];
        cp.events.push_back(at);
        const bool recv = e.kind == ActionKind::RECV_F || e.kind == ActionKind::RECV_B;
        int next = x.prev;
        double top = e.start_us;  // the moment the predecessor must explain
        if (is_compute(e.kind)) cp.compute_us += e.duration_us();
        if (recv && x.send >= 0 && e.end_us - e.start_us > kEps) {
            // It waited: its end was set by the message.
            next = x.send;
            cp.transfer_us += std::max(0.0, e.end_us - ev[static_cast<std::size_t>(x.send)].end_us);
            top = ev[static_cast<std::size_t>(x.send)].end_us;
        } else {
            if (!is_compute(e.kind)) cp.other_us += e.duration_us();
            if (!recv && x.producer >= 0 && x.receive < 0 && x.waited_for_producer) {  // implied message
                next = x.producer;
                cp.transfer_us += x.transfer_us;
                top = ev[static_cast<std::size_t>(next)].end_us;
            }
        }
        const double prev_end = next >= 0 ? ev[static_cast<std::size_t>(next)].end_us : t0;
        cp.other_us += std::max(0.0, top - prev_end);
        at = next;
    }
    std::reverse(cp.events.begin(), cp.events.end());
    return w;
}

std::string explain_wait(const Timeline& tl, const WaitAnalysis& w, int event) {
    if (event < 0 || event >= static_cast<int>(tl.events.size())) return {};
    const TimelineEvent& e = tl.events[static_cast<std::size_t>(event)];
    const EventWait& x = w.events[static_cast<std::size_t>(event)];
    const auto name = [&](int i) {
        const TimelineEvent& v = tl.events[static_cast<std::size_t>(i)];
        return to_string(Action{v.kind, v.chunk, v.microbatch}) + " on stage " + std::to_string(v.rank);
    };
    const auto ms = [](double us) {
        char buf[32];
        std::snprintf(buf, sizeof buf, us >= 1000 ? "%.1f ms" : "%.1f us", us >= 1000 ? us / 1000 : us);
        return std::string(buf);
    };
    std::string out = name(event);
    if (x.idle_us <= kEps) return out + " started at once";
    out += " waited " + ms(x.idle_us);
    if (x.waited_for_producer) {
        out += " for " + name(x.producer);
        if (x.transfer_us > kEps) out += " (+" + ms(x.transfer_us) + " transfer)";
    } else if (x.prev >= 0 && !is_compute(e.kind)) {
        out += " after " + name(x.prev);
    }
    return out;
}

}  // namespace pipelab
