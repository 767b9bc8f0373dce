#include "core/executor.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <latch>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "core/host_device.h"

namespace pipelab {

namespace {

using Clock = std::chrono::steady_clock;

// Per-rank cache of released buffers by size, like a caching allocator: a step allocates
// the same sizes for every microbatch, and a fresh allocation costs page faults on the CPU
// and a synchronising cudaMalloc on a GPU. Accounting counts live buffers only. Senders
// take the receiver's buffers from here, so it is locked (uncontended almost always).
// Each free buffer remembers the owner's mark after its last use (a fence: on a GPU the
// owner's queued work may still read it), so a sender's copy into it waits for exactly
// that, not for everything the owner has queued. Fences die with the step (end_step
// drains every queue).
class BufferPool {
public:
    struct Free {
        DeviceBuffer buffer;
        std::uint64_t fence = 0;
        std::uint64_t step = 0;
    };
    BufferPool(Device& device, int rank) : m_device(device), m_rank(rank) {}
    ~BufferPool() { drain(); }
    // The fence (0: none) the caller must respect before writing, unless it is the owner.
    DeviceBuffer acquire(std::int64_t bytes, std::uint64_t* fence = nullptr) {
        {
            std::lock_guard lk(m_mu);
            auto it = m_free.find(bytes);
            if (it != m_free.end() && !it->second.empty()) {
                const Free f = it->second.back();
                it->second.pop_back();
                if (fence) *fence = f.step == m_step ? f.fence : 0;
                return f.buffer;
            }
        }
        if (fence) *fence = 0;
        return m_device.allocate(m_rank, bytes);
    }
    void give_back(DeviceBuffer b, std::uint64_t fence = 0) {
        if (!b) return;
        std::lock_guard lk(m_mu);
        m_free[b.bytes].push_back({b, fence, m_step});
    }
    void next_step() {
        std::lock_guard lk(m_mu);
        ++m_step;
    }
    void drain() {
        std::lock_guard lk(m_mu);
        for (auto& [bytes, list] : m_free)
            for (const Free& f : list) m_device.release(m_rank, f.buffer);
        m_free.clear();
    }

private:
    Device& m_device;
    int m_rank;
    std::mutex m_mu;
    std::uint64_t m_step = 0;
    std::unordered_map<std::int64_t, std::vector<Free>> m_free;
};

// (role, chunk, microbatch) packed into one key: a buffer a rank holds, and the mailbox
// slot of a message (a message is the receiver's Act(c) or Grad(c) on its way).
std::uint64_t key(const TensorRef& t, int mb) {
    return (static_cast<std::uint64_t>(t.role) << 60) | (static_cast<std::uint64_t>(t.chunk) << 32) |
           static_cast<std::uint32_t>(mb);
}

// Thrown inside a worker when another rank failed or the run was cancelled.
struct Stopped {};

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s);
    return buf;
}

// State every worker sees: the first failure, the stop flag, each rank's position.
struct Shared {
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::string error;  // first failure wins
    int error_rank = -1, error_index = -1;
    bool cancelled = false;
    const std::atomic<bool>* cancel = nullptr;
    std::vector<std::atomic<int>> position;  // action index each rank is at
    // Bytes sent to each rank and not yet received: the "messages" memory category.
    std::vector<std::atomic<std::int64_t>> in_flight;

    explicit Shared(int p) : position(static_cast<std::size_t>(p)), in_flight(static_cast<std::size_t>(p)) {}

    void fail(int rank, int index, const std::string& what) {
        std::lock_guard lk(mu);
        if (!stop.load()) {
            error = what;
            error_rank = rank;
            error_index = index;
        }
        stop = true;
    }
    bool should_stop() {
        if (stop.load(std::memory_order_relaxed)) return true;
        if (cancel && cancel->load(std::memory_order_relaxed)) {
            std::lock_guard lk(mu);
            if (!stop.load()) cancelled = true;
            stop = true;
            return true;
        }
        return false;
    }
};

struct Message {
    DeviceBuffer buffer;  // on the receiver's device
    std::uint64_t ticket = 0;
};

// Messages arriving at one rank, keyed by what they are. A receive waits here.
struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    std::unordered_map<std::uint64_t, Message> slots;

    void put(std::uint64_t k, Message m) {
        {
            std::lock_guard lk(mu);
            slots.emplace(k, m);
        }
        cv.notify_all();
    }
    // Blocks until the message arrives, the run stops, or the watchdog fires (false).
    bool take(std::uint64_t k, Message& out, Shared& sh, double watchdog_s) {
        const auto deadline = Clock::now() + std::chrono::duration<double>(watchdog_s);
        std::unique_lock lk(mu);
        for (;;) {
            const auto it = slots.find(k);
            if (it != slots.end()) {
                out = it->second;
                slots.erase(it);
                return true;
            }
            if (sh.should_stop()) throw Stopped{};
            if (Clock::now() >= deadline) return false;
            // Short waits: a stop or cancel is noticed within 10 ms even without a notify.
            cv.wait_for(lk, std::chrono::milliseconds(10));
        }
    }
    // Messages nobody took (a failed step): their buffers go back to the receiver's pool.
    void drain(BufferPool& pool) {
        std::lock_guard lk(mu);
        for (auto& [k, m] : slots) pool.give_back(m.buffer);
        slots.clear();
    }
};

// A memory sample tied to a timing mark (-1: the step's start), resolved to a time once
// the device has turned marks into times.
struct PendingSample {
    int mark = -1;
    MemorySample bytes;
};

}  // namespace

struct Executor::Impl {
    Schedule s;
    std::vector<StageCompute*> stages;
    Device& device;
    ExecutorOptions opts;
    std::vector<ChunkSizes> sizes;  // per chunk, from the stage that holds it
    std::vector<char> recomputed;   // per (chunk, mb): the schedule has an R
    std::vector<std::unique_ptr<BufferPool>> pools;

    Impl(const Schedule& sched, std::vector<StageCompute*> st, Device& dev, ExecutorOptions o)
        : s(sched), stages(std::move(st)), device(dev), opts(o) {
        const int p = s.n_ranks;
        if (static_cast<int>(stages.size()) != p)
            throw std::invalid_argument("executor: " + std::to_string(stages.size()) + " stages for " +
                                        std::to_string(p) + " ranks");
        for (int c = 0; c < s.n_chunks(); ++c)
            sizes.push_back(stages[static_cast<std::size_t>(s.rank_of(c))]->buffers(c));
        recomputed.assign(static_cast<std::size_t>(s.n_chunks()) * s.n_microbatches, 0);
        for (const auto& row : s.ranks)
            for (const Action& a : row)
                if (a.kind == ActionKind::R)
                    recomputed[static_cast<std::size_t>(a.chunk) * s.n_microbatches + a.microbatch] = 1;
        for (int r = 0; r < p; ++r) pools.push_back(std::make_unique<BufferPool>(device, r));
    }
    bool is_recomputed(int chunk, int mb) const {
        return recomputed[static_cast<std::size_t>(chunk) * s.n_microbatches + mb] != 0;
    }
};

namespace {

class Worker {
public:
    Worker(int rank, Executor::Impl& ex, std::vector<Mailbox>& boxes, Shared& sh)
        : m_rank(rank), m_ex(ex), m_s(ex.s), m_stage(*ex.stages[static_cast<std::size_t>(rank)]), m_boxes(boxes),
          m_sh(sh), m_pool(*ex.pools[static_cast<std::size_t>(rank)]) {
        m_mem.rank = rank;
        m_mem.params = m_stage.param_bytes();
        m_mem.grads = m_stage.grad_bytes();
        m_mem.optimizer = m_stage.optimizer_bytes();
        m_mem.workspace = m_stage.workspace_bytes();
    }

    // Every path reaches the latches, so the optimizer runs only when every rank has
    // completed its actions: a failed step never leaves the model half-updated.
    void run(int step, std::latch& ready, std::latch& go, std::latch& finished) {
        const auto& row = m_s.ranks[static_cast<std::size_t>(m_rank)];
        int i = 0;
        guarded(i, [&] { m_ex.device.begin_step(m_rank); });
        ready.count_down();
        go.wait();  // before anything that can throw past a latch: no rank may miss one
        guarded(i, [&] {
            m_stage.zero_grad();
            record_memory();
            for (; i < static_cast<int>(row.size()); ++i) {
                if (m_sh.should_stop()) return;
                m_sh.position[m_rank] = i;
                run_action(row[static_cast<std::size_t>(i)]);
            }
            m_sh.position[m_rank] = i;
        });
        // Always: queued device work must finish before buffers can be reused or freed.
        guarded(i, [&] {
            m_ex.device.end_step(m_rank);
            if (!m_sh.should_stop()) loss_sum = m_stage.loss_sum();
        });
        drain_store();
        finished.arrive_and_wait();
        if (!m_sh.should_stop()) guarded(i, [&] { m_stage.optimizer_step(step); });
    }

    std::vector<PendingSample> samples;
    double loss_sum = 0;

private:
    template <typename F>
    void guarded(int& i, F body) {
        try {
            body();
        } catch (const Stopped&) {
        } catch (const std::exception& e) {
            m_sh.fail(m_rank, i, describe(i, e.what()));
        } catch (...) {
            m_sh.fail(m_rank, i, describe(i, "unknown exception"));
        }
    }

    std::string describe(int i, const std::string& what) const {
        const auto& row = m_s.ranks[static_cast<std::size_t>(m_rank)];
        const std::string act = i < static_cast<int>(row.size()) ? to_string(row[static_cast<std::size_t>(i)])
                                                                 : std::string("optimizer step");
        return "rank " + std::to_string(m_rank) + ", action #" + std::to_string(i) + " (" + act + "): " + what;
    }

    void record_memory() {
        PendingSample ps{m_marks - 1, m_mem};
        ps.bytes.messages = m_sh.in_flight[m_rank].load();
        samples.push_back(ps);
    }
    void mark() {
        m_fence = m_ex.device.mark(m_rank);
        ++m_marks;
    }

    // The buffers this rank holds, by (role, chunk, microbatch).
    DeviceBuffer& held(const TensorRef& t, int mb) {
        const auto it = m_store.find(key(t, mb));
        if (it == m_store.end()) throw std::logic_error("buffer missing (schedule not validated?)");
        return it->second;
    }
    // The tensor's device pointer, or nullptr where the model has none (no Act(0), no
    // Grad(last)).
    float* f32(TensorRole role, int chunk, int mb) {
        if (chunk < 0 || chunk >= m_s.n_chunks()) return nullptr;
        if (role == TensorRole::Act && chunk == 0) return nullptr;
        if (role == TensorRole::Grad && chunk == m_s.n_chunks() - 1) return nullptr;
        return held({role, chunk}, mb).f32();
    }
    std::byte* raw(TensorRole role, int chunk, int mb) { return held({role, chunk}, mb).raw(); }

    void check_finite(const float* p, int chunk, const char* what) {
        if (!m_ex.opts.check_finite || p == nullptr) return;
        if (!m_ex.device.all_finite(m_rank, p, m_ex.sizes[static_cast<std::size_t>(chunk)].boundary / 4))
            throw std::runtime_error(std::string("non-finite value in ") + what);
    }

    Message receive(const TensorRef& t, const Action& a) {
        Message msg;
        if (!m_boxes[m_rank].take(key(t, a.microbatch), msg, m_sh, m_ex.opts.watchdog_s)) {
            const Action send = comm_peer(a);
            const int src = m_s.rank_of(send.chunk);
            const int at = m_sh.position[src].load();
            const auto& srow = m_s.ranks[static_cast<std::size_t>(src)];
            throw std::runtime_error(
                "stalled: waited " + seconds(m_ex.opts.watchdog_s) + " s for rank " + std::to_string(src) + "'s " +
                to_string(send) + "; rank " + std::to_string(src) + " is at #" + std::to_string(at) +
                (at < static_cast<int>(srow.size()) ? " (" + to_string(srow[static_cast<std::size_t>(at)]) + ")"
                                                    : std::string(" (finished)")));
        }
        m_ex.device.wait_for_copy(m_rank, msg.ticket);
        m_sh.in_flight[m_rank] -= msg.buffer.bytes;
        return msg;
    }

    // The buffer `t` goes to the rank holding its chunk; the copy is the receiver's.
    void send(const TensorRef& t, int mb) {
        const DeviceBuffer& from = held(t, mb);
        const int dst = m_s.rank_of(t.chunk);
        std::uint64_t fence = 0;
        const DeviceBuffer to = m_ex.pools[static_cast<std::size_t>(dst)]->acquire(from.bytes, &fence);
        const std::uint64_t ticket = m_ex.device.copy_to_rank(m_rank, dst, from, to, fence);
        m_sh.in_flight[dst] += to.bytes;
        m_boxes[dst].put(key(t, mb), {to, ticket});
    }

    void run_action(const Action& a) {
        const int c = a.chunk, mb = a.microbatch;
        const ActionMemory mem = action_memory(a, m_s.n_chunks(), m_ex.is_recomputed(c, mb));
        mark();
        for (int k = 0; k < mem.n_alloc; ++k) {
            const TensorRef& t = mem.alloc[static_cast<std::size_t>(k)];
            const DeviceBuffer b = is_comm(a.kind) ? receive(t, a).buffer : m_pool.acquire(tensor_bytes(t, m_ex.sizes));
            m_store.emplace(key(t, mb), b);
            m_mem.activations += b.bytes;
        }
        if (mem.n_alloc > 0) record_memory();
        compute(a);
        mark();  // before the frees: the end mark is the fence after their last use
        for (int k = 0; k < mem.n_free; ++k) {
            const auto it = m_store.find(key(mem.free[static_cast<std::size_t>(k)], mb));
            if (it == m_store.end()) throw std::logic_error("buffer missing (schedule not validated?)");
            m_mem.activations -= it->second.bytes;
            m_pool.give_back(it->second, m_fence);
            m_store.erase(it);
        }
        if (mem.n_free > 0) record_memory();
    }

    void compute(const Action& a) {
        const int c = a.chunk, mb = a.microbatch;
        using R = TensorRole;
        switch (a.kind) {
        case ActionKind::F: {
            float* out = f32(R::Act, c + 1, mb);
            m_stage.forward(c, mb, f32(R::Act, c, mb), raw(R::Saved, c, mb), out);
            check_finite(out, c, "forward output");
            break;
        }
        case ActionKind::R: m_stage.recompute(c, mb, f32(R::Act, c, mb), raw(R::Saved, c, mb)); break;
        case ActionKind::B:
        case ActionKind::I: {
            float* dinput = f32(R::Grad, c - 1, mb);
            m_stage.backward_input(c, mb, f32(R::Grad, c, mb), raw(R::Saved, c, mb), raw(R::Pending, c, mb), dinput);
            check_finite(dinput, c, "input gradient");
            if (a.kind == ActionKind::B) m_stage.backward_weight(c, mb, raw(R::Saved, c, mb), raw(R::Pending, c, mb));
            break;
        }
        case ActionKind::W: m_stage.backward_weight(c, mb, raw(R::Saved, c, mb), raw(R::Pending, c, mb)); break;
        case ActionKind::SEND_F: send({R::Act, c + 1}, mb); break;
        case ActionKind::SEND_B: send({R::Grad, c - 1}, mb); break;
        case ActionKind::RECV_F:
        case ActionKind::RECV_B:
        case ActionKind::NUM_KINDS: break;
        }
    }

    // After a failed step some buffers are still held: back to the pool, not leaked.
    void drain_store() {
        for (auto& [k, b] : m_store) m_pool.give_back(b);
        m_store.clear();
    }

    int m_rank;
    Executor::Impl& m_ex;
    const Schedule& m_s;
    StageCompute& m_stage;
    std::vector<Mailbox>& m_boxes;
    Shared& m_sh;
    BufferPool& m_pool;
    MemorySample m_mem;
    int m_marks = 0;
    std::uint64_t m_fence = 0;  // the latest mark's
    std::unordered_map<std::uint64_t, DeviceBuffer> m_store;
};

}  // namespace

Executor::Executor(const Schedule& s, std::vector<StageCompute*> stages, Device& device, ExecutorOptions opts)
    : m_impl(std::make_unique<Impl>(s, std::move(stages), device, opts)) {}

Executor::~Executor() = default;

StepOutcome Executor::step(int step, const std::atomic<bool>* cancel) {
    Impl& ex = *m_impl;
    const Schedule& s = ex.s;
    const int p = s.n_ranks;
    Shared sh(p);
    sh.cancel = cancel;
    for (auto& pool : ex.pools) pool->next_step();
    std::vector<Mailbox> boxes(static_cast<std::size_t>(p));
    std::vector<std::unique_ptr<Worker>> workers;
    for (int r = 0; r < p; ++r) workers.push_back(std::make_unique<Worker>(r, ex, boxes, sh));

    // Workers get ready (device bound), the clock starts, then all run together; none
    // runs its optimizer before all are done.
    std::latch ready(p), go(1), finished(p);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(p));
    try {
        for (int r = 0; r < p; ++r) threads.emplace_back([&, r] { workers[r]->run(step, ready, go, finished); });
    } catch (const std::system_error& e) {
        const int started = static_cast<int>(threads.size());
        sh.fail(started, -1,
                "cannot start the thread of rank " + std::to_string(started) + " of " + std::to_string(p) + ": " +
                    e.what());
        ready.count_down(p - started);  // stand in for the ranks that never started
        finished.count_down(p - started);
    }
    ready.wait();
    ex.device.start_clock();
    go.count_down();
    for (auto& t : threads) t.join();
    for (int r = 0; r < p; ++r) boxes[static_cast<std::size_t>(r)].drain(*ex.pools[static_cast<std::size_t>(r)]);

    if (sh.cancelled) throw RunCancelled();
    if (sh.stop) {
        std::string grid;
        if (sh.error_rank >= 0 && sh.error_rank < p && sh.error_index >= 0)
            grid = format_schedule(s, sh.error_rank, sh.error_index);
        throw ExecutorError(sh.error_rank, sh.error_index, sh.error, grid);
    }

    StepOutcome out;
    Timeline& tl = out.timeline;
    tl.meta.schedule = s.name;
    tl.meta.backend = ex.device.kind();
    tl.meta.stages = p;
    tl.meta.microbatches = s.n_microbatches;
    tl.meta.chunks = s.n_chunks() / p;
    tl.meta.chunk_rank = s.chunk_rank;
    double loss = 0;
    for (int r = 0; r < p; ++r) {
        const auto& row = s.ranks[static_cast<std::size_t>(r)];
        const std::vector<double> t = ex.device.mark_times_us(r);
        if (t.size() != 2 * row.size())
            throw ExecutorError(r, -1,
                                "rank " + std::to_string(r) + ": the device returned " + std::to_string(t.size()) +
                                    " timing marks for " + std::to_string(row.size()) + " actions");
        for (std::size_t i = 0; i < row.size(); ++i)
            tl.events.push_back({r, row[i].kind, row[i].chunk, row[i].microbatch, t[2 * i], t[2 * i + 1]});
        for (const PendingSample& ps : workers[static_cast<std::size_t>(r)]->samples) {
            MemorySample m = ps.bytes;
            m.time_us = ps.mark < 0 ? 0.0 : t[static_cast<std::size_t>(ps.mark)];
            tl.memory.push_back(m);
        }
        tl.meta.devices.push_back(ex.device.label(r));
        loss += workers[static_cast<std::size_t>(r)]->loss_sum;
    }
    out.loss = loss / s.n_microbatches;
    return out;
}

StepOutcome execute_step(const Schedule& s, const std::vector<StageCompute*>& stages, int step,
                         const ExecutorOptions& opts, const std::atomic<bool>* cancel) {
    HostDevice device(s.n_ranks);
    Executor ex(s, stages, device, opts);
    return ex.step(step, cancel);
}

}  // namespace pipelab
