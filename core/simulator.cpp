#include "core/simulator.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace pipelab {

namespace {

struct ChunkCost {
    double f = 0, i = 0, w = 0;
    std::int64_t params = 0, activations = 0;
};

std::vector<ChunkCost> chunk_costs(const Partition& part, const CostModel& cost) {
    std::vector<ChunkCost> cc(static_cast<std::size_t>(part.n_chunks()));
    for (int c = 0; c < part.n_chunks(); ++c) {
        for (int l = part.first_layer(c); l < part.end_layer(c); ++l) {
            const LayerCost& lc = cost.layers[static_cast<std::size_t>(l)];
            cc[c].f += lc.fwd_us;
            cc[c].i += lc.bwd_input_us;
            cc[c].w += lc.bwd_weight_us;
            cc[c].params += lc.param_bytes;
            cc[c].activations += lc.activation_bytes;
        }
    }
    return cc;
}

constexpr double kNotSent = -1.0;

}  // namespace

Timeline simulate(const Schedule& s, const Partition& part, const CostModel& cost) {
    if (part.n_chunks() != s.n_chunks())
        throw std::invalid_argument("simulate: partition has " + std::to_string(part.n_chunks()) +
                                    " chunks, schedule has " + std::to_string(s.n_chunks()));
    if (static_cast<int>(cost.layers.size()) != part.n_layers)
        throw std::invalid_argument("simulate: cost model has " + std::to_string(cost.layers.size()) +
                                    " layers, partition has " + std::to_string(part.n_layers));
    const int p = s.n_ranks, m = s.n_microbatches;
    const std::vector<ChunkCost> cc = chunk_costs(part, cost);
    const double transfer = cost.link.transfer_us(cost.message_bytes);

    // Arrival time of the message a chunk's RECV waits for, per (chunk, microbatch).
    const std::size_t n_cm = static_cast<std::size_t>(s.n_chunks()) * m;
    std::vector<double> arrive_f(n_cm, kNotSent), arrive_b(n_cm, kNotSent);
    const auto slot = [m](int chunk, int mb) { return static_cast<std::size_t>(chunk) * m + mb; };

    std::vector<std::vector<TimelineEvent>> events(static_cast<std::size_t>(p));
    std::vector<std::vector<MemorySample>> memory(static_cast<std::size_t>(p));
    std::vector<MemorySample> held(static_cast<std::size_t>(p));  // current bytes per rank
    for (int r = 0; r < p; ++r) {
        MemorySample& h = held[r];
        h.rank = r;
        for (int c = 0; c < s.n_chunks(); ++c) {
            if (s.rank_of(c) != r) continue;
            h.params += cc[c].params;
            h.grads += cc[c].params;
            h.optimizer += cc[c].params * cost.optimizer_copies;
        }
        memory[r].push_back(h);
        events[r].reserve(s.ranks[r].size());
        memory[r].reserve(s.ranks[r].size() / 2 + 2);
    }

    std::vector<std::size_t> pc(static_cast<std::size_t>(p), 0);
    std::vector<double> now(static_cast<std::size_t>(p), 0.0);
    std::vector<int> work;
    std::vector<char> queued(static_cast<std::size_t>(p), 1);
    for (int r = p - 1; r >= 0; --r) work.push_back(r);
    const auto wake = [&](int r) {
        if (!queued[r]) {
            queued[r] = 1;
            work.push_back(r);
        }
    };

    while (!work.empty()) {
        const int r = work.back();
        work.pop_back();
        queued[r] = 0;
        const auto& row = s.ranks[static_cast<std::size_t>(r)];
        double t = now[r];
        MemorySample& h = held[r];
        auto& ev = events[r];
        for (; pc[r] < row.size(); ++pc[r]) {
            const Action& a = row[pc[r]];
            const ChunkCost& c = cc[static_cast<std::size_t>(a.chunk)];
            double end = t;
            switch (a.kind) {
            case ActionKind::RECV_F:
            case ActionKind::RECV_B: {
                const double arr = (a.kind == ActionKind::RECV_F ? arrive_f : arrive_b)[slot(a.chunk, a.microbatch)];
                if (arr == kNotSent) goto blocked;
                end = std::max(t, arr);
                break;
            }
            case ActionKind::SEND_F:
            case ActionKind::SEND_B: {
                const Action recv = comm_peer(a);
                (a.kind == ActionKind::SEND_F ? arrive_f : arrive_b)[slot(recv.chunk, recv.microbatch)] = t + transfer;
                wake(s.rank_of(recv.chunk));
                break;
            }
            case ActionKind::F:
                end = t + c.f;
                h.activations += c.activations;
                h.time_us = t;
                memory[r].push_back(h);
                break;
            case ActionKind::I: end = t + c.i; break;
            case ActionKind::R: end = t + c.f; break;
            case ActionKind::B:
            case ActionKind::W:
                end = t + (a.kind == ActionKind::B ? c.i + c.w : c.w);
                h.activations -= c.activations;
                h.time_us = end;
                memory[r].push_back(h);
                break;
            case ActionKind::NUM_KINDS: break;
            }
            ev.push_back({r, a.kind, a.chunk, a.microbatch, t, end});
            t = end;
        }
    blocked:
        now[r] = t;
    }

    for (int r = 0; r < p; ++r)
        if (pc[r] < s.ranks[r].size())
            throw std::invalid_argument("simulate: rank " + std::to_string(r) + " stuck at #" +
                                        std::to_string(pc[r]) + " (" + to_string(s.ranks[r][pc[r]]) +
                                        "): schedule deadlocks; run validate_schedule first");

    Timeline tl;
    tl.meta.schedule = s.name;
    tl.meta.backend = "sim";
    tl.meta.stages = p;
    tl.meta.microbatches = m;
    tl.meta.chunks = p > 0 ? s.n_chunks() / p : 0;
    tl.meta.chunk_rank = s.chunk_rank;
    tl.meta.bounds = part.bounds;
    tl.meta.devices.assign(static_cast<std::size_t>(p), "sim");
    std::size_t n_ev = 0, n_mem = 0;
    for (int r = 0; r < p; ++r) {
        n_ev += events[r].size();
        n_mem += memory[r].size();
    }
    tl.events.reserve(n_ev);
    tl.memory.reserve(n_mem);
    for (int r = 0; r < p; ++r) {
        tl.events.insert(tl.events.end(), events[r].begin(), events[r].end());
        tl.memory.insert(tl.memory.end(), memory[r].begin(), memory[r].end());
    }
    return tl;
}

}  // namespace pipelab
