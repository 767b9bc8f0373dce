#include "core/walk.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <queue>
#include <unordered_map>

namespace pipelab {

namespace {

constexpr double kUnknown = -1.0;

// End times of actions, dense over (kind, chunk, microbatch): what the dependency rules
// look up (W is never a dependency, so it is left out).
class EndTimes {
public:
    EndTimes(int n_chunks, int n_mb) : m_chunks(n_chunks), m_mb(n_mb) {
        m_t.assign(kProducers * static_cast<std::size_t>(n_chunks) * static_cast<std::size_t>(n_mb), kUnknown);
    }
    static int producer(ActionKind k) {
        const int i = static_cast<int>(k);
        if (k == ActionKind::W || k >= ActionKind::NUM_KINDS) return -1;
        return i > static_cast<int>(ActionKind::W) ? i - 1 : i;
    }
    bool stores(const Action& a) const {
        return producer(a.kind) >= 0 && a.chunk >= 0 && a.chunk < m_chunks && a.microbatch >= 0 && a.microbatch < m_mb;
    }
    double get(const Action& a) const { return stores(a) ? m_t[slot(a)] : kUnknown; }
    void set(const Action& a, double t) {
        if (stores(a)) m_t[slot(a)] = t;
    }
    static std::uint64_t key(const Action& a) {
        return (static_cast<std::uint64_t>(a.kind) << 56) | (static_cast<std::uint64_t>(a.chunk) << 32) |
               static_cast<std::uint32_t>(a.microbatch);
    }

private:
    std::size_t slot(const Action& a) const {
        return (static_cast<std::size_t>(producer(a.kind)) * static_cast<std::size_t>(m_chunks) +
                static_cast<std::size_t>(a.chunk)) *
                   static_cast<std::size_t>(m_mb) +
               static_cast<std::size_t>(a.microbatch);
    }
    static constexpr std::size_t kProducers = kNumActionKinds - 1;
    int m_chunks, m_mb;
    std::vector<double> m_t;
};

struct Event {
    double t;
    std::uint64_t seq;  // ties in the order they were made: deterministic
    int rank;
    std::uint32_t version;
    bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

class Walker {
public:
    Walker(int n_ranks, int n_mb, const DepLookup& lk, const WalkTiming& timing, WalkObserver* obs,
           const Schedule* fixed, const PolicyFn* policy)
        : m_lk(lk), m_timing(timing), m_obs(obs), m_fixed(fixed), m_policy(policy), m_ends(lk.n_chunks(), n_mb),
          m_ranks(static_cast<std::size_t>(n_ranks)) {
        m_result.start.resize(m_ranks.size());
        m_result.end.resize(m_ranks.size());
        m_result.order.resize(m_ranks.size());
        const bool sharing = !timing.device_of.empty();
        for (int r = 0; r < n_ranks; ++r) {
            RankState& st = m_ranks[static_cast<std::size_t>(r)];
            st.device = sharing ? timing.device_of[static_cast<std::size_t>(r)] : r;
            if (fixed) {
                const std::size_t n = fixed->ranks[static_cast<std::size_t>(r)].size();
                m_result.start[static_cast<std::size_t>(r)].reserve(n);
                m_result.end[static_cast<std::size_t>(r)].reserve(n);
            }
        }
        const int n_devices =
            sharing ? *std::max_element(timing.device_of.begin(), timing.device_of.end()) + 1 : n_ranks;
        m_devices.resize(static_cast<std::size_t>(std::max(n_devices, 0)));
        for (std::size_t d = 0; d < m_devices.size(); ++d)
            m_devices[d].slots = sharing && d < timing.device_slots.size() ? timing.device_slots[d] : 1.0;
        m_sharing = sharing;
    }

    WalkResult run() {
        for (int r = 0; r < static_cast<int>(m_ranks.size()); ++r) m_try.push_back(r);
        for (;;) {
            while (!m_try.empty()) {
                const int r = m_try.front();
                m_try.pop_front();
                advance(r);
            }
            if (m_events.empty()) break;
            m_now = m_events.top().t;
            while (!m_events.empty() && m_events.top().t == m_now) {
                const Event e = m_events.top();
                m_events.pop();
                RankState& st = m_ranks[static_cast<std::size_t>(e.rank)];
                if (e.version != st.version) continue;  // superseded by a re-rating
                if (st.running)
                    finish(e.rank);
                else
                    m_try.push_back(e.rank);  // a wake-up: its dependency has arrived
            }
        }
        for (std::size_t r = 0; r < m_ranks.size(); ++r) {
            const RankState& st = m_ranks[r];
            const bool done = m_fixed ? st.pc == m_fixed->ranks[r].size() : !st.in_action;
            if (!done) m_result.complete = false;
            m_result.stuck_at.push_back(static_cast<int>(st.pc));
        }
        if (m_result.complete) m_result.stuck_at.clear();
        return std::move(m_result);
    }

private:
    struct RankState {
        std::size_t pc = 0;      // actions run so far
        bool in_action = false;  // `cur` chosen (a receive waiting, or compute running)
        bool started = false;    // `cur` has started (its start time is recorded)
        bool running = false;    // a compute action in progress (an event will end it)
        bool stuck = false;      // waits for something later on its own list: never
        Action cur{};
        int device = 0;
        double remaining = 0, rate = 1, since = 0;  // work left at `since`, speed
        std::uint32_t version = 0;
    };
    struct DeviceState {
        double slots = 1;
        std::vector<int> active;  // ranks computing on it
    };

    const Action* next_fixed(int r) const {
        const auto& row = m_fixed->ranks[static_cast<std::size_t>(r)];
        return m_ranks[static_cast<std::size_t>(r)].pc < row.size() ? &row[m_ranks[static_cast<std::size_t>(r)].pc]
                                                                    : nullptr;
    }

    // When a's dependencies have all arrived, or kUnknown when one has not ended yet
    // (and then `missing` is it).
    double arrival(int r, const Action& a, Action& missing) const {
        double t = 0;
        for (const Dependency& d : dependencies(a, m_lk)) {
            const double end = m_ends.get(d.action);
            if (end == kUnknown) {
                missing = d.action;
                return kUnknown;
            }
            double at = end;
            if (d.message && m_timing.transfer) at += m_timing.transfer(d.action, m_lk.rank_of(d.action.chunk), r);
            t = std::max(t, at);
        }
        return t;
    }

    void advance(int r) {
        RankState& st = m_ranks[static_cast<std::size_t>(r)];
        while (!st.running && !st.stuck) {
            if (!st.in_action) {
                if (m_fixed) {
                    const Action* a = next_fixed(r);
                    if (a == nullptr) return;
                    st.cur = *a;
                } else {
                    const ReadyFn ready = [&](const Action& a) {
                        Action missing;
                        const double t = arrival(r, a, missing);
                        return t != kUnknown && t <= m_now;
                    };
                    const std::optional<Action> a = (*m_policy)(r, m_now, ready);
                    if (!a) {
                        m_idle.push_back(r);
                        return;
                    }
                    st.cur = *a;
                }
                st.in_action = true;
                st.started = false;
            }
            const Action& a = st.cur;
            const bool recv = a.kind == ActionKind::RECV_F || a.kind == ActionKind::RECV_B;
            if (recv && !st.started) start(r);  // a receive starts when the rank reaches it
            Action missing{};
            const double at = arrival(r, a, missing);
            if (at == kUnknown) {
                // A same-rank dependency that has not run is later on this list: it never will.
                if (m_fixed &&
                    (missing.chunk < 0 || missing.chunk >= m_lk.n_chunks() || m_lk.rank_of(missing.chunk) == r)) {
                    st.stuck = true;
                    return;
                }
                m_waiters.emplace(EndTimes::key(missing), r);
                return;
            }
            if (at > m_now) {  // wake when it arrives
                push(r, at);
                return;
            }
            if (!st.started) start(r);
            const double work = is_compute(a.kind) && m_timing.duration ? m_timing.duration(r, a) : 0.0;
            if (work <= 0) {
                complete(r);
                continue;
            }
            begin_compute(r, work);
        }
    }

    void start(int r) {
        RankState& st = m_ranks[static_cast<std::size_t>(r)];
        st.started = true;
        m_result.start[static_cast<std::size_t>(r)].push_back(m_now);
        if (m_obs) m_obs->started(r, static_cast<int>(st.pc), st.cur, m_now);
    }

    void push(int r, double t) {
        RankState& st = m_ranks[static_cast<std::size_t>(r)];
        m_events.push({t, m_seq++, r, ++st.version});
    }

    void begin_compute(int r, double work) {
        RankState& st = m_ranks[static_cast<std::size_t>(r)];
        st.running = true;
        st.remaining = work;
        st.since = m_now;
        if (!m_sharing) {
            st.rate = 1;
            push(r, m_now + work);
            return;
        }
        DeviceState& dev = m_devices[static_cast<std::size_t>(st.device)];
        settle(dev);
        dev.active.push_back(r);
        rerate(dev);
    }

    void finish(int r) {
        RankState& st = m_ranks[static_cast<std::size_t>(r)];
        st.running = false;
        if (m_sharing) {
            DeviceState& dev = m_devices[static_cast<std::size_t>(st.device)];
            settle(dev);
            dev.active.erase(std::find(dev.active.begin(), dev.active.end(), r));
            rerate(dev);
        }
        complete(r);
        m_try.push_back(r);
    }

    // Work done by every action on the device up to now, at the old speed.
    void settle(DeviceState& dev) {
        for (int q : dev.active) {
            RankState& s = m_ranks[static_cast<std::size_t>(q)];
            s.remaining = std::max(0.0, s.remaining - (m_now - s.since) * s.rate);
            s.since = m_now;
        }
    }
    // New speed for every action on the device, and their new end times.
    void rerate(DeviceState& dev) {
        const double rate = std::min(1.0, dev.slots / std::max<double>(1.0, static_cast<double>(dev.active.size())));
        for (int q : dev.active) {
            RankState& s = m_ranks[static_cast<std::size_t>(q)];
            s.rate = rate;
            push(q, m_now + s.remaining / rate);
        }
    }

    void complete(int r) {
        RankState& st = m_ranks[static_cast<std::size_t>(r)];
        const Action a = st.cur;
        m_result.end[static_cast<std::size_t>(r)].push_back(m_now);
        m_result.order[static_cast<std::size_t>(r)].push_back(a);
        m_ends.set(a, m_now);
        if (m_obs) m_obs->ended(r, static_cast<int>(st.pc), a, m_now);
        ++st.pc;
        st.in_action = false;
        st.started = false;
        const auto [lo, hi] = m_waiters.equal_range(EndTimes::key(a));
        for (auto it = lo; it != hi; ++it) m_try.push_back(it->second);
        m_waiters.erase(lo, hi);
        // A policy may now find something ready for a rank that was idle.
        if (m_policy && !m_idle.empty()) {
            std::sort(m_idle.begin(), m_idle.end());
            for (int q : m_idle) m_try.push_back(q);
            m_idle.clear();
        }
    }

    const DepLookup& m_lk;
    const WalkTiming& m_timing;
    WalkObserver* m_obs;
    const Schedule* m_fixed;
    const PolicyFn* m_policy;
    EndTimes m_ends;
    std::vector<RankState> m_ranks;
    std::vector<DeviceState> m_devices;
    bool m_sharing = false;
    double m_now = 0;
    std::uint64_t m_seq = 0;
    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> m_events;
    std::deque<int> m_try;
    std::vector<int> m_idle;
    std::unordered_multimap<std::uint64_t, int> m_waiters;
    WalkResult m_result;
};

}  // namespace

WalkResult walk_schedule(const Schedule& s, const WalkTiming& timing, WalkObserver* observer) {
    const ScheduleIndex index(s);
    Walker w(s.n_ranks, s.n_microbatches, index, timing, observer, &s, nullptr);
    return w.run();
}

WalkResult walk_policy(int n_ranks, int n_microbatches, const DepLookup& lookup, const PolicyFn& next,
                       const WalkTiming& timing, WalkObserver* observer) {
    Walker w(n_ranks, n_microbatches, lookup, timing, observer, nullptr, &next);
    return w.run();
}

}  // namespace pipelab
