#include "core/simulator.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/memory_rule.h"
#include "core/walk.h"

namespace pipelab {

namespace {

struct ChunkCost {
    double f = 0, i = 0, w = 0;
    std::int64_t params = 0, scratch = 0;
};

// Memory of every rank as the walk runs the schedule: the buffers of core/memory_rule.h,
// allocated when an action starts and freed when it ends, as the executor does.
class MemoryObserver final : public WalkObserver {
public:
    MemoryObserver(const Schedule& s, const std::vector<ChunkSizes>& sizes, std::vector<MemorySample> held)
        : m_s(s), m_sizes(sizes), m_held(std::move(held)), m_samples(m_held.size()) {
        m_recomputed.assign(static_cast<std::size_t>(s.n_chunks()) * s.n_microbatches, 0);
        for (const auto& row : s.ranks)
            for (const Action& a : row)
                if (a.kind == ActionKind::R) m_recomputed[slot(a)] = 1;
        for (std::size_t r = 0; r < m_held.size(); ++r) {
            m_samples[r].reserve(2 * s.ranks[r].size() + 2);  // about one after allocs, one after frees
            m_samples[r].push_back(m_held[r]);
        }
    }
    void started(int r, int, const Action& a, double t) override {
        const ActionMemory mem = action_memory(a, m_s.n_chunks(), m_recomputed[slot(a)] != 0);
        for (int k = 0; k < mem.n_alloc; ++k)
            m_held[r].activations += tensor_bytes(mem.alloc[static_cast<std::size_t>(k)], m_sizes);
        if (mem.n_alloc > 0) sample(r, t);
    }
    void ended(int r, int, const Action& a, double t) override {
        const ActionMemory mem = action_memory(a, m_s.n_chunks(), m_recomputed[slot(a)] != 0);
        for (int k = 0; k < mem.n_free; ++k)
            m_held[r].activations -= tensor_bytes(mem.free[static_cast<std::size_t>(k)], m_sizes);
        if (a.kind == ActionKind::SEND_F || a.kind == ActionKind::SEND_B) {  // in flight to the receiver
            const TensorRef msg = mem.free[0];
            const int dst = m_s.rank_of(msg.chunk);
            m_held[static_cast<std::size_t>(dst)].messages += tensor_bytes(msg, m_sizes);
            sample(dst, t);
        }
        if (a.kind == ActionKind::RECV_F || a.kind == ActionKind::RECV_B)
            m_held[r].messages -= tensor_bytes(mem.alloc[0], m_sizes);
        if (mem.n_free > 0 || is_comm(a.kind)) sample(r, t);
    }
    std::vector<std::vector<MemorySample>>& samples() { return m_samples; }

private:
    std::size_t slot(const Action& a) const {
        return static_cast<std::size_t>(a.chunk) * static_cast<std::size_t>(m_s.n_microbatches) +
               static_cast<std::size_t>(a.microbatch);
    }
    void sample(int r, double t) {
        m_held[static_cast<std::size_t>(r)].time_us = t;
        m_samples[static_cast<std::size_t>(r)].push_back(m_held[static_cast<std::size_t>(r)]);
    }

    const Schedule& m_s;
    const std::vector<ChunkSizes>& m_sizes;
    std::vector<MemorySample> m_held;  // current bytes per rank
    std::vector<std::vector<MemorySample>> m_samples;
    std::vector<char> m_recomputed;
};

}  // namespace

Timeline simulate(const Schedule& s, const Partition& part, const CostModel& cost) {
    if (part.n_chunks() != s.n_chunks())
        throw std::invalid_argument("simulate: partition has " + std::to_string(part.n_chunks()) +
                                    " chunks, schedule has " + std::to_string(s.n_chunks()));
    if (static_cast<int>(cost.layers.size()) != part.n_layers)
        throw std::invalid_argument("simulate: cost model has " + std::to_string(cost.layers.size()) +
                                    " layers, partition has " + std::to_string(part.n_layers));
    if (!cost.rank_device.empty() && static_cast<int>(cost.rank_device.size()) != s.n_ranks)
        throw std::invalid_argument("simulate: cost model maps " + std::to_string(cost.rank_device.size()) +
                                    " ranks to devices, schedule has " + std::to_string(s.n_ranks));
    const int p = s.n_ranks, m = s.n_microbatches;

    std::vector<ChunkCost> cc(static_cast<std::size_t>(part.n_chunks()));
    std::vector<ChunkSizes> sizes(static_cast<std::size_t>(part.n_chunks()));
    for (int c = 0; c < part.n_chunks(); ++c) {
        for (int l = part.first_layer(c); l < part.end_layer(c); ++l) {
            const LayerCost& lc = cost.layers[static_cast<std::size_t>(l)];
            cc[c].f += lc.fwd_us;
            cc[c].i += lc.bwd_input_us;
            cc[c].w += lc.bwd_weight_us;
            cc[c].params += lc.param_bytes;
            cc[c].scratch = std::max(cc[c].scratch, lc.scratch_bytes);
            sizes[c].saved += lc.activation_bytes;
            sizes[c].pending += lc.pending_bytes;
        }
        sizes[c].boundary = cost.message_bytes;
    }

    std::vector<MemorySample> held(static_cast<std::size_t>(p));
    std::vector<std::int64_t> scratch(static_cast<std::size_t>(p), 0);
    for (int c = 0; c < s.n_chunks(); ++c) {
        MemorySample& h = held[static_cast<std::size_t>(s.rank_of(c))];
        h.params += cc[c].params;
        h.grads += cc[c].params;
        h.optimizer += cc[c].params * cost.optimizer_copies;
        scratch[static_cast<std::size_t>(s.rank_of(c))] =
            std::max(scratch[static_cast<std::size_t>(s.rank_of(c))], cc[c].scratch);
    }
    for (int r = 0; r < p; ++r) {
        held[r].rank = r;
        held[r].workspace = cost.workspace_base_bytes + scratch[r];
    }

    WalkTiming timing;
    timing.duration = [&](int, const Action& a) {
        const ChunkCost& c = cc[static_cast<std::size_t>(a.chunk)];
        switch (a.kind) {
        case ActionKind::F:
        case ActionKind::R: return c.f;
        case ActionKind::B: return c.i + c.w;
        case ActionKind::I: return c.i;
        case ActionKind::W: return c.w;
        default: return 0.0;
        }
    };
    const double transfer = cost.link.transfer_us(cost.message_bytes);
    timing.transfer = [transfer](const Action&, int, int) { return transfer; };
    timing.device_of = cost.rank_device;
    timing.device_slots = cost.device_slots;

    MemoryObserver memory(s, sizes, held);
    const WalkResult run = walk_schedule(s, timing, &memory);
    if (!run.complete) {
        for (int r = 0; r < p; ++r) {
            const int at = run.stuck_at[static_cast<std::size_t>(r)];
            if (at < static_cast<int>(s.ranks[r].size()))
                throw std::invalid_argument("simulate: rank " + std::to_string(r) + " stuck at #" + std::to_string(at) +
                                            " (" + to_string(s.ranks[r][static_cast<std::size_t>(at)]) +
                                            "): schedule deadlocks; run validate_schedule first");
        }
    }

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
        n_ev += s.ranks[r].size();
        n_mem += memory.samples()[r].size();
    }
    tl.events.reserve(n_ev);
    tl.memory.reserve(n_mem);
    for (int r = 0; r < p; ++r) {
        const auto& row = s.ranks[static_cast<std::size_t>(r)];
        for (std::size_t i = 0; i < row.size(); ++i)
            tl.events.push_back({r, row[i].kind, row[i].chunk, row[i].microbatch, run.start[r][i], run.end[r][i]});
        tl.memory.insert(tl.memory.end(), memory.samples()[r].begin(), memory.samples()[r].end());
    }
    return tl;
}

}  // namespace pipelab
