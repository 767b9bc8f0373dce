#include "core/validate.h"

#include <vector>

namespace pipelab {

namespace {

constexpr int kNone = -1;

// Position of every action kind for every (chunk, microbatch): where on its rank it sits.
struct Positions {
    int n_mb = 0;
    std::vector<int> pos[kNumActionKinds];  // index (chunk * n_mb + mb) -> action index
    int& at(ActionKind k, int chunk, int mb) {
        return pos[static_cast<int>(k)][static_cast<std::size_t>(chunk) * n_mb + mb];
    }
    int at(ActionKind k, int chunk, int mb) const {
        return pos[static_cast<int>(k)][static_cast<std::size_t>(chunk) * n_mb + mb];
    }
};

class Validator {
public:
    explicit Validator(const Schedule& s) : m_s(s) {}

    std::optional<ScheduleError> run() {
        if (auto e = check_shape()) return e;
        if (auto e = check_actions()) return e;
        if (auto e = check_completeness()) return e;
        if (auto e = check_local_order()) return e;
        return check_progress();
    }

private:
    ScheduleError error(int rank, int index, std::string what) const {
        ScheduleError e;
        e.rank = rank;
        e.index = index;
        if (rank >= 0) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(rank)];
            const std::string act = index >= 0 && index < static_cast<int>(row.size())
                                        ? to_string(row[static_cast<std::size_t>(index)])
                                        : std::string("end of list");
            e.message = "rank " + std::to_string(rank) + ", action #" + std::to_string(index) +
                        " (" + act + "): " + what;
            e.grid = format_schedule(m_s, rank, index);
        } else {
            e.message = what;
        }
        return e;
    }

    bool remote(int from, int to) const {
        return to >= 0 && to < m_s.n_chunks() && m_s.rank_of(from) != m_s.rank_of(to);
    }

    std::optional<ScheduleError> check_shape() {
        if (m_s.n_ranks < 1) return error(-1, -1, "schedule has no ranks");
        if (m_s.n_microbatches < 1) return error(-1, -1, "schedule has no microbatches");
        if (m_s.chunk_rank.empty()) return error(-1, -1, "schedule has no chunks");
        if (static_cast<int>(m_s.ranks.size()) != m_s.n_ranks)
            return error(-1, -1, "schedule has " + std::to_string(m_s.ranks.size()) +
                                     " action lists for " + std::to_string(m_s.n_ranks) + " ranks");
        for (int c = 0; c < m_s.n_chunks(); ++c)
            if (m_s.rank_of(c) < 0 || m_s.rank_of(c) >= m_s.n_ranks)
                return error(-1, -1, "chunk " + std::to_string(c) + " is mapped to rank " +
                                         std::to_string(m_s.rank_of(c)) + ", not in 0.." +
                                         std::to_string(m_s.n_ranks - 1));
        m_pos.n_mb = m_s.n_microbatches;
        for (auto& v : m_pos.pos)
            v.assign(static_cast<std::size_t>(m_s.n_chunks()) * m_s.n_microbatches, kNone);
        return std::nullopt;
    }

    // Each action: in range, on the right rank, a real boundary for comms, not duplicated.
    std::optional<ScheduleError> check_actions() {
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            for (int i = 0; i < static_cast<int>(row.size()); ++i) {
                const Action& a = row[static_cast<std::size_t>(i)];
                if (a.kind >= ActionKind::NUM_KINDS) return error(r, i, "unknown action kind");
                if (a.chunk < 0 || a.chunk >= m_s.n_chunks())
                    return error(r, i, "chunk " + std::to_string(a.chunk) + " not in 0.." +
                                           std::to_string(m_s.n_chunks() - 1));
                if (a.microbatch < 0 || a.microbatch >= m_s.n_microbatches)
                    return error(r, i, "microbatch " + std::to_string(a.microbatch) +
                                           " not in 0.." + std::to_string(m_s.n_microbatches - 1));
                if (m_s.rank_of(a.chunk) != r)
                    return error(r, i, "chunk " + std::to_string(a.chunk) + " lives on rank " +
                                           std::to_string(m_s.rank_of(a.chunk)));
                const int c = a.chunk;
                switch (a.kind) {
                case ActionKind::SEND_F:
                case ActionKind::RECV_B:
                    if (!remote(c, c + 1))
                        return error(r, i, "no rank boundary after chunk " + std::to_string(c) +
                                               " to communicate across");
                    break;
                case ActionKind::RECV_F:
                case ActionKind::SEND_B:
                    if (!remote(c, c - 1))
                        return error(r, i, "no rank boundary before chunk " + std::to_string(c) +
                                               " to communicate across");
                    break;
                default: break;
                }
                int& p = m_pos.at(a.kind, c, a.microbatch);
                if (p != kNone)
                    return error(r, i, "duplicate " + std::string(to_string(a.kind)) +
                                           ": already at #" + std::to_string(p));
                p = i;
            }
        }
        return std::nullopt;
    }

    std::optional<ScheduleError> check_completeness() {
        for (int c = 0; c < m_s.n_chunks(); ++c) {
            const int r = m_s.rank_of(c);
            const int end = static_cast<int>(m_s.ranks[static_cast<std::size_t>(r)].size());
            for (int mb = 0; mb < m_s.n_microbatches; ++mb) {
                const std::string who = "chunk " + std::to_string(c) + " microbatch " +
                                        std::to_string(mb);
                const auto has = [&](ActionKind k) { return m_pos.at(k, c, mb) != kNone; };
                if (!has(ActionKind::F)) return error(r, end, who + " has no forward (F)");
                const bool b = has(ActionKind::B), i = has(ActionKind::I), w = has(ActionKind::W);
                if (b && (i || w))
                    return error(r, m_pos.at(w ? ActionKind::W : ActionKind::I, c, mb),
                                 who + " has both a full backward B and a split I/W");
                if (w && !i)
                    return error(r, m_pos.at(ActionKind::W, c, mb), who + " has W but no I");
                if (!b && !i) return error(r, end, who + " has no backward (B, or I then W)");
                if (i && !w) return error(r, end, who + " has I but no W");
                // Each boundary crossing needs its send and its receive.
                if (remote(c, c + 1)) {
                    // A receive waiting for a send that never comes is reported at the receive.
                    const int rf = m_pos.at(ActionKind::RECV_F, c + 1, mb);
                    if (!has(ActionKind::SEND_F) && rf != kNone)
                        return error(m_s.rank_of(c + 1), rf,
                                     "receive with no matching send: rank " + std::to_string(r) +
                                         " never runs " + to_string(Action{ActionKind::SEND_F, c, mb}));
                    if (!has(ActionKind::SEND_F))
                        return error(r, end, who + " never sends its output (SEND_F) to rank " +
                                                 std::to_string(m_s.rank_of(c + 1)));
                    if (!has(ActionKind::RECV_B))
                        return error(r, end, who + " never receives its output gradient "
                                                   "(RECV_B) from rank " +
                                                 std::to_string(m_s.rank_of(c + 1)));
                }
                if (remote(c, c - 1)) {
                    const int rb = m_pos.at(ActionKind::RECV_B, c - 1, mb);
                    if (!has(ActionKind::SEND_B) && rb != kNone)
                        return error(m_s.rank_of(c - 1), rb,
                                     "receive with no matching send: rank " + std::to_string(r) +
                                         " never runs " + to_string(Action{ActionKind::SEND_B, c, mb}));
                    if (!has(ActionKind::RECV_F))
                        return error(r, end, who + " never receives its input (RECV_F) from rank " +
                                                 std::to_string(m_s.rank_of(c - 1)));
                    if (!has(ActionKind::SEND_B))
                        return error(r, end, who + " never sends its input gradient (SEND_B) to "
                                                   "rank " + std::to_string(m_s.rank_of(c - 1)));
                }
            }
        }
        return std::nullopt;
    }

    // On one rank, each action after what it consumes.
    std::optional<ScheduleError> check_local_order() {
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            for (int i = 0; i < static_cast<int>(row.size()); ++i) {
                const Action& a = row[static_cast<std::size_t>(i)];
                const int c = a.chunk, mb = a.microbatch;
                const auto before = [&](ActionKind k, int chunk, const char* why)
                    -> std::optional<ScheduleError> {
                    const int p = m_pos.at(k, chunk, mb);
                    if (p == kNone || p > i)
                        return error(r, i, std::string(why) + ": needs " +
                                               to_string(Action{k, chunk, mb}) + " earlier on rank " +
                                               std::to_string(r) +
                                               (p == kNone ? std::string(" (absent)")
                                                           : " (it is at #" + std::to_string(p) + ")"));
                    return std::nullopt;
                };
                std::optional<ScheduleError> e;
                switch (a.kind) {
                case ActionKind::F:
                    if (c > 0)
                        e = remote(c, c - 1) ? before(ActionKind::RECV_F, c, "forward before its input arrives")
                                             : before(ActionKind::F, c - 1, "forward before the previous chunk's forward");
                    break;
                case ActionKind::B:
                case ActionKind::I:
                    e = before(ActionKind::F, c, "backward before its forward");
                    if (!e && c + 1 < m_s.n_chunks()) {
                        const ActionKind down = m_pos.at(ActionKind::B, c + 1, mb) != kNone
                                                    ? ActionKind::B : ActionKind::I;
                        e = remote(c, c + 1) ? before(ActionKind::RECV_B, c, "backward before its output gradient arrives")
                                             : before(down, c + 1, "backward before the next chunk's backward");
                    }
                    break;
                case ActionKind::W: e = before(ActionKind::I, c, "weight gradient before I"); break;
                case ActionKind::SEND_F: e = before(ActionKind::F, c, "send before the forward"); break;
                case ActionKind::SEND_B: {
                    const ActionKind k = m_pos.at(ActionKind::B, c, mb) != kNone ? ActionKind::B : ActionKind::I;
                    e = before(k, c, "send before the backward");
                    break;
                }
                default: break;
                }
                if (e) return e;
            }
        }
        return std::nullopt;
    }

    // The send a receive waits for: (rank, index).
    std::pair<int, int> matching_send(const Action& a) const {
        const Action send = comm_peer(a);
        return {m_s.rank_of(send.chunk), m_pos.at(send.kind, send.chunk, send.microbatch)};
    }

    // Every recv has its send; then run all ranks in order to prove no circular wait.
    std::optional<ScheduleError> check_progress() {
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            for (int i = 0; i < static_cast<int>(row.size()); ++i) {
                const Action& a = row[static_cast<std::size_t>(i)];
                if (a.kind != ActionKind::RECV_F && a.kind != ActionKind::RECV_B) continue;
                if (matching_send(a).second == kNone)
                    return error(r, i, "receive with no matching send on rank " +
                                           std::to_string(matching_send(a).first));
            }
        }
        // pc[r] = next action of rank r; a receive proceeds once its send has run.
        std::vector<int> pc(static_cast<std::size_t>(m_s.n_ranks), 0);
        std::vector<int> work;
        for (int r = m_s.n_ranks - 1; r >= 0; --r) work.push_back(r);
        std::vector<char> queued(static_cast<std::size_t>(m_s.n_ranks), 1);
        while (!work.empty()) {
            const int r = work.back();
            work.pop_back();
            queued[r] = 0;
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            while (pc[r] < static_cast<int>(row.size())) {
                const Action& a = row[static_cast<std::size_t>(pc[r])];
                if (a.kind == ActionKind::RECV_F || a.kind == ActionKind::RECV_B) {
                    const auto [src, idx] = matching_send(a);
                    if (pc[src] <= idx) break;  // the send has not run yet
                }
                ++pc[r];
                if (a.kind == ActionKind::SEND_F || a.kind == ActionKind::SEND_B) {
                    const int dst = m_s.rank_of(comm_peer(a).chunk);
                    if (!queued[dst]) {
                        queued[dst] = 1;
                        work.push_back(dst);
                    }
                }
            }
        }
        std::string waits;
        int first = -1;
        for (int r = 0; r < m_s.n_ranks; ++r) {
            const auto& row = m_s.ranks[static_cast<std::size_t>(r)];
            if (pc[r] >= static_cast<int>(row.size())) continue;
            if (first < 0) first = r;
            const Action& a = row[static_cast<std::size_t>(pc[r])];
            const auto [src, idx] = matching_send(a);
            waits += "\n  rank " + std::to_string(r) + " at #" + std::to_string(pc[r]) + " (" +
                     to_string(a) + ") waits for rank " + std::to_string(src) + "'s " +
                     to_string(m_s.ranks[static_cast<std::size_t>(src)][static_cast<std::size_t>(idx)]) +
                     " (#" + std::to_string(idx) + ")";
        }
        if (first < 0) return std::nullopt;
        return error(first, pc[first], "deadlock: circular wait" + waits);
    }

    const Schedule& m_s;
    Positions m_pos;
};

}  // namespace

std::optional<ScheduleError> validate_schedule(const Schedule& s) { return Validator(s).run(); }

}  // namespace pipelab
