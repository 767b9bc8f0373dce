#include "core/executor.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <condition_variable>
#include <algorithm>
#include <latch>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace pipelab {

namespace {

using Clock = std::chrono::steady_clock;
// An uninitialised float array: every consumer overwrites what it reads, so zero-filling
// megabytes of saved activations per action would be pure overhead.
class Buffer {
public:
    Buffer() = default;
    explicit Buffer(std::size_t n) : m_data(new float[n]), m_size(n) {}
    float* data() { return m_data.get(); }
    const float* data() const { return m_data.get(); }
    std::size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    const float* begin() const { return m_data.get(); }
    const float* end() const { return m_data.get() + m_size; }

private:
    std::unique_ptr<float[]> m_data;
    std::size_t m_size = 0;
};

// Per-rank cache of released buffers by size, like a caching allocator: a step allocates
// the same sizes for every microbatch, and fresh pages would cost a page fault per 4 KiB.
// Accounting counts live buffers only; cached ones are free for reuse.
class BufferPool {
public:
    Buffer acquire(std::size_t n) {
        auto it = m_free.find(n);
        if (it == m_free.end() || it->second.empty()) return Buffer(n);
        Buffer b = std::move(it->second.back());
        it->second.pop_back();
        return b;
    }
    void give_back(Buffer&& b) {
        if (!b.empty()) m_free[b.size()].push_back(std::move(b));
    }

private:
    std::unordered_map<std::size_t, std::vector<Buffer>> m_free;
};

// (direction, receiving chunk, microbatch) packed into one key.
enum class Flow : std::uint64_t { Activation = 0, Gradient = 1 };
std::uint64_t key(Flow f, int chunk, int mb) {
    return (static_cast<std::uint64_t>(f) << 62) | (static_cast<std::uint64_t>(chunk) << 32) |
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
    // Bytes sent to each rank and still waiting in its mailbox: they belong to the
    // receiver from the moment they are sent (a send copies into the receiver's memory).
    std::vector<std::atomic<std::int64_t>> mailbox_bytes;
    Clock::time_point t0;

    explicit Shared(int p) : position(static_cast<std::size_t>(p)), mailbox_bytes(static_cast<std::size_t>(p)) {}

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
    double now_us() const { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }
};

// Buffers arriving at one rank, keyed by what they are. A receive waits here.
struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    std::unordered_map<std::uint64_t, Buffer> slots;

    void put(std::uint64_t k, Buffer b) {
        {
            std::lock_guard lk(mu);
            slots.emplace(k, std::move(b));
        }
        cv.notify_all();
    }
    // Blocks until the buffer arrives, the run stops, or the watchdog fires (returns false).
    bool take(std::uint64_t k, Buffer& out, Shared& sh, double watchdog_s) {
        const auto deadline = Clock::now() + std::chrono::duration<double>(watchdog_s);
        std::unique_lock lk(mu);
        for (;;) {
            const auto it = slots.find(k);
            if (it != slots.end()) {
                out = std::move(it->second);
                slots.erase(it);
                return true;
            }
            if (sh.should_stop()) throw Stopped{};
            if (Clock::now() >= deadline) return false;
            // Short waits: a stop or cancel is noticed within 10 ms even without a notify.
            cv.wait_for(lk, std::chrono::milliseconds(10));
        }
    }
};

class Worker {
public:
    Worker(int rank, const Schedule& s, StageCompute& stage, std::vector<Mailbox>& boxes, Shared& sh,
           const ExecutorOptions& opts)
        : m_rank(rank), m_s(s), m_stage(stage), m_boxes(boxes), m_sh(sh), m_opts(opts) {
        m_mem.rank = rank;
        m_mem.params = stage.param_bytes();
        m_mem.grads = stage.grad_bytes();
        m_mem.optimizer = stage.optimizer_bytes();
        m_mem.workspace = stage.workspace_bytes();
    }

    // Every path reaches `finished`, so the optimizer runs only when every rank has
    // completed its actions: a failed step never leaves the model half-updated.
    void run(int step, std::latch& start, std::latch& finished) {
        const auto& row = m_s.ranks[static_cast<std::size_t>(m_rank)];
        int i = 0;
        start.arrive_and_wait();  // before anything that can throw: no rank may miss the latch
        guarded(i, [&] {
            m_stage.zero_grad();
            record_memory(0.0);
            for (; i < static_cast<int>(row.size()); ++i) {
                if (m_sh.should_stop()) return;
                m_sh.position[m_rank] = i;
                const Action& a = row[static_cast<std::size_t>(i)];
                const double t = m_sh.now_us();
                run_action(a);
                events.push_back({m_rank, a.kind, a.chunk, a.microbatch, t, m_sh.now_us()});
            }
            m_sh.position[m_rank] = i;
        });
        finished.arrive_and_wait();
        if (!m_sh.should_stop()) guarded(i, [&] { m_stage.optimizer_step(step); });
    }

    std::vector<TimelineEvent> events;
    std::vector<MemorySample> memory;
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

    void record_memory(double t) {
        m_mem.time_us = t;
        memory.push_back(m_mem);
        memory.back().activations += m_sh.mailbox_bytes[m_rank].load();
    }
    Buffer alloc(std::int64_t floats) {
        Buffer b = m_pool.acquire(static_cast<std::size_t>(floats));
        m_mem.activations += floats * static_cast<std::int64_t>(sizeof(float));
        record_memory(m_sh.now_us());
        return b;
    }
    void release(Buffer& b) {
        if (b.empty()) return;
        m_mem.activations -= static_cast<std::int64_t>(b.size() * sizeof(float));
        m_pool.give_back(std::move(b));
        b = Buffer();
        record_memory(m_sh.now_us());
    }
    Buffer take_local(std::unordered_map<std::uint64_t, Buffer>& from, std::uint64_t k) {
        const auto it = from.find(k);
        if (it == from.end()) throw std::logic_error("buffer missing (schedule not validated?)");
        Buffer b = std::move(it->second);
        from.erase(it);
        return b;
    }
    void check_finite(const Buffer& b, const char* what) const {
        if (!m_opts.check_finite) return;
        for (float x : b)
            if (!std::isfinite(x)) throw std::runtime_error(std::string("non-finite value in ") + what);
    }

    void receive(std::uint64_t k, const Action& a) {
        Buffer b;
        if (!m_boxes[m_rank].take(k, b, m_sh, m_opts.watchdog_s)) {
            const Action send = comm_peer(a);
            const int src = m_s.rank_of(send.chunk);
            const int at = m_sh.position[src].load();
            const auto& srow = m_s.ranks[static_cast<std::size_t>(src)];
            throw std::runtime_error(
                "stalled: waited " + seconds(m_opts.watchdog_s) + " s for rank " + std::to_string(src) +
                "'s " + to_string(send) +
                "; rank " + std::to_string(src) + " is at #" + std::to_string(at) +
                (at < static_cast<int>(srow.size()) ? " (" + to_string(srow[static_cast<std::size_t>(at)]) + ")"
                                                    : std::string(" (finished)")));
        }
        const auto bytes = static_cast<std::int64_t>(b.size() * sizeof(float));
        m_sh.mailbox_bytes[m_rank] -= bytes;  // from the mailbox into this rank's own buffers
        m_mem.activations += bytes;
        record_memory(m_sh.now_us());
        m_inbox.emplace(k, std::move(b));
    }

    void send(Flow f, std::uint64_t out_key, int dst_chunk, int mb) {
        Buffer out = take_local(m_outbox, out_key);
        Buffer copy = m_pool.acquire(out.size());  // the copy crosses; the sender frees its own
        std::copy(out.begin(), out.end(), copy.data());
        release(out);
        const int dst = m_s.rank_of(dst_chunk);
        m_sh.mailbox_bytes[dst] += static_cast<std::int64_t>(copy.size() * sizeof(float));
        m_boxes[dst].put(key(f, dst_chunk, mb), std::move(copy));
    }

    // Where a chunk's output goes: the next chunk's inbox on this rank, or the outbox for a send.
    void deliver(Flow f, int to_chunk, int mb, Buffer b) {
        if (m_s.rank_of(to_chunk) == m_rank) m_inbox.emplace(key(f, to_chunk, mb), std::move(b));
        else m_outbox.emplace(key(f, to_chunk, mb), std::move(b));
    }

    void run_action(const Action& a) {
        const int c = a.chunk, mb = a.microbatch;
        const int last = m_s.n_chunks() - 1;
        const ChunkBuffers sz = m_stage.buffers(c);
        const std::uint64_t cm = key(Flow::Activation, c, mb);  // per (chunk, mb) state key
        switch (a.kind) {
        case ActionKind::RECV_F: receive(key(Flow::Activation, c, mb), a); break;
        case ActionKind::RECV_B: receive(key(Flow::Gradient, c, mb), a); break;
        case ActionKind::SEND_F: send(Flow::Activation, key(Flow::Activation, c + 1, mb), c + 1, mb); break;
        case ActionKind::SEND_B: send(Flow::Gradient, key(Flow::Gradient, c - 1, mb), c - 1, mb); break;
        case ActionKind::F: {
            Buffer input;
            if (c > 0) input = take_local(m_inbox, key(Flow::Activation, c, mb));
            Buffer saved = alloc(sz.saved);
            Buffer output = c < last ? alloc(sz.boundary) : Buffer();
            loss_sum += m_stage.forward(c, mb, c > 0 ? input.data() : nullptr, saved.data(),
                                        c < last ? output.data() : nullptr);
            check_finite(output, "forward output");
            release(input);
            m_saved.emplace(cm, std::move(saved));
            if (c < last) deliver(Flow::Activation, c + 1, mb, std::move(output));
            break;
        }
        case ActionKind::B:
        case ActionKind::I: {
            Buffer dout;
            if (c < last) dout = take_local(m_inbox, key(Flow::Gradient, c, mb));
            Buffer& saved = m_saved.at(cm);
            Buffer scratch = alloc(sz.w_scratch);
            Buffer dinput = c > 0 ? alloc(sz.boundary) : Buffer();
            m_stage.backward_input(c, mb, c < last ? dout.data() : nullptr, saved.data(), scratch.data(),
                                   c > 0 ? dinput.data() : nullptr);
            check_finite(dinput, "input gradient");
            release(dout);
            if (c > 0) deliver(Flow::Gradient, c - 1, mb, std::move(dinput));
            if (a.kind == ActionKind::B) {
                m_stage.backward_weight(c, mb, saved.data(), scratch.data());
                release(scratch);
                release(saved);
                m_saved.erase(cm);
            } else {
                m_scratch.emplace(cm, std::move(scratch));
            }
            break;
        }
        case ActionKind::W: {
            Buffer scratch = take_local(m_scratch, cm);
            Buffer saved = take_local(m_saved, cm);
            m_stage.backward_weight(c, mb, saved.data(), scratch.data());
            release(scratch);
            release(saved);
            break;
        }
        case ActionKind::NUM_KINDS: break;
        }
    }

    int m_rank;
    const Schedule& m_s;
    StageCompute& m_stage;
    std::vector<Mailbox>& m_boxes;
    Shared& m_sh;
    const ExecutorOptions& m_opts;
    MemorySample m_mem;
    BufferPool m_pool;
    std::unordered_map<std::uint64_t, Buffer> m_inbox;    // inputs and output gradients waiting for use
    std::unordered_map<std::uint64_t, Buffer> m_outbox;   // outputs waiting for their send
    std::unordered_map<std::uint64_t, Buffer> m_saved;    // activations saved by F
    std::unordered_map<std::uint64_t, Buffer> m_scratch;  // what I left for W
};

}  // namespace

StepOutcome execute_step(const Schedule& s, const std::vector<StageCompute*>& stages, int step,
                         const ExecutorOptions& opts, const std::atomic<bool>* cancel) {
    const int p = s.n_ranks;
    if (static_cast<int>(stages.size()) != p)
        throw std::invalid_argument("execute_step: " + std::to_string(stages.size()) + " stages for " +
                                    std::to_string(p) + " ranks");
    Shared sh(p);
    sh.cancel = cancel;
    std::vector<Mailbox> boxes(static_cast<std::size_t>(p));
    std::vector<std::unique_ptr<Worker>> workers;
    for (int r = 0; r < p; ++r) workers.push_back(std::make_unique<Worker>(r, s, *stages[r], boxes, sh, opts));

    // All threads start the clock together; none runs its optimizer before all are done.
    std::latch start(p + 1), finished(p);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(p));
    try {
        for (int r = 0; r < p; ++r) threads.emplace_back([&, r] { workers[r]->run(step, start, finished); });
    } catch (const std::system_error& e) {
        const int started = static_cast<int>(threads.size());
        sh.fail(started, -1, "cannot start the thread of rank " + std::to_string(started) + " of " +
                                 std::to_string(p) + ": " + e.what());
        start.count_down(p - started);  // stand in for the ranks that never started
        finished.count_down(p - started);
    }
    sh.t0 = Clock::now();
    start.arrive_and_wait();
    for (auto& t : threads) t.join();

    if (sh.cancelled) throw RunCancelled();
    if (sh.stop) throw ExecutorError(sh.error_rank, sh.error_index, sh.error);

    StepOutcome out;
    Timeline& tl = out.timeline;
    tl.meta.schedule = s.name;
    tl.meta.backend = "cpu";
    tl.meta.stages = p;
    tl.meta.microbatches = s.n_microbatches;
    tl.meta.chunks = s.n_chunks() / p;
    tl.meta.chunk_rank = s.chunk_rank;
    double loss = 0;
    for (auto& w : workers) {
        tl.events.insert(tl.events.end(), w->events.begin(), w->events.end());
        tl.memory.insert(tl.memory.end(), w->memory.begin(), w->memory.end());
        loss += w->loss_sum;
    }
    out.loss = loss / s.n_microbatches;
    return out;
}

}  // namespace pipelab
