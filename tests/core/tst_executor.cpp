// The executor with a fake StageCompute whose arithmetic is easy to predict: data flows
// through real buffers and mailboxes, every action is timed, memory is accounted, and
// failures, stalls and cancellation end the run promptly with a clear message.
#include <QtTest>

#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "core/executor.h"
#include "core/host_device.h"
#include "core/schedule_gen.h"
#include "core/stats.h"
#include "core/validate.h"

using namespace pipelab;
using namespace std::chrono_literals;

namespace {
constexpr int kN = 64;       // floats crossing a boundary
constexpr int kSaved = 256;  // floats saved per (chunk, microbatch)

// Forward adds (chunk + 1) to every element; chunk 0 starts from the microbatch number; the
// last chunk's loss is the mean of its input. Backward passes the gradient through; W
// counts how often it ran per chunk.
struct FakeStage : StageCompute {
    int n_chunks = 1;
    std::vector<int> w_calls;
    int optimizer_calls = 0;
    std::function<void(ActionKind, int, int)> hook;  // failure / delay injection

    double loss = 0;
    explicit FakeStage(int chunks) : n_chunks(chunks), w_calls(static_cast<std::size_t>(chunks), 0) {}
    ChunkSizes buffers(int) const override { return {kSaved * 4, kN * 4, kN * 4}; }
    std::int64_t param_bytes() const override { return 1000; }
    std::int64_t grad_bytes() const override { return 1000; }
    std::int64_t optimizer_bytes() const override { return 2000; }
    void zero_grad() override { loss = 0; }
    void forward(int c, int mb, const float* in, std::byte* saved_bytes, float* out) override {
        if (hook) hook(ActionKind::F, c, mb);
        auto* saved = reinterpret_cast<float*>(saved_bytes);
        double sum = 0;
        for (int i = 0; i < kN; ++i) {
            const float x = in ? in[i] : float(mb);
            saved[i] = x;
            if (out) out[i] = x + float(c + 1);
            sum += x;
        }
        if (!out) loss += sum / kN;
    }
    void recompute(int c, int mb, const float* in, std::byte* saved_bytes) override {
        if (hook) hook(ActionKind::R, c, mb);
        auto* saved = reinterpret_cast<float*>(saved_bytes);
        for (int i = 0; i < kN; ++i) saved[i] = in ? in[i] : float(mb);
    }
    void backward_input(int c, int mb, const float* dout, std::byte* saved, std::byte* pending, float* din) override {
        if (hook) hook(ActionKind::I, c, mb);
        auto* scratch = reinterpret_cast<float*>(pending);
        const float expect = c > 0 ? float(mb) + float(c * (c + 1) / 2) : float(mb);  // F's input, kept or recomputed
        if (reinterpret_cast<const float*>(saved)[0] != expect) throw std::runtime_error("saved activations corrupted");
        for (int i = 0; i < kN; ++i) {
            scratch[i] = dout ? dout[i] : 1.0f;
            if (din) din[i] = scratch[i];
        }
    }
    void backward_weight(int c, int mb, const std::byte*, const std::byte* pending) override {
        if (hook) hook(ActionKind::W, c, mb);
        if (reinterpret_cast<const float*>(pending)[0] != 1.0f)
            throw std::runtime_error("gradient corrupted in transit");
        ++w_calls[static_cast<std::size_t>(c)];
    }
    double loss_sum() override { return loss; }
    void optimizer_step(int) override { ++optimizer_calls; }
};

struct Run {
    std::vector<std::unique_ptr<FakeStage>> owned;
    std::vector<StageCompute*> stages;
    Run(const Schedule& s) {
        for (int r = 0; r < s.n_ranks; ++r) {
            owned.push_back(std::make_unique<FakeStage>(s.n_chunks()));
            stages.push_back(owned.back().get());
        }
    }
};

// Expected loss: microbatch mb enters as mb and gains 1 + 2 + ... + (n_chunks - 1).
double expected_loss(int chunks, int m) {
    double sum = 0;
    for (int mb = 0; mb < m; ++mb) sum += mb + chunks * (chunks - 1) / 2.0;
    return sum / m;
}
}  // namespace

class TestExecutor : public QObject {
    Q_OBJECT
private slots:
    void runsEverySchedule_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("v");
        QTest::newRow("gpipe 4x8") << int(ScheduleKind::GPipe) << 4 << 8 << 1;
        QTest::newRow("1f1b 4x8") << int(ScheduleKind::OneFOneB) << 4 << 8 << 1;
        QTest::newRow("1f1b 1x3") << int(ScheduleKind::OneFOneB) << 1 << 3 << 1;
        QTest::newRow("1f1b 3x2") << int(ScheduleKind::OneFOneB) << 3 << 2 << 1;
        QTest::newRow("interleaved 2x4x2") << int(ScheduleKind::Interleaved) << 2 << 4 << 2;
        QTest::newRow("interleaved 4x8x3") << int(ScheduleKind::Interleaved) << 4 << 8 << 3;
    }
    void runsEverySchedule() {
        QFETCH(int, kind);
        QFETCH(int, p);
        QFETCH(int, m);
        QFETCH(int, v);
        const Schedule s = make_schedule({ScheduleKind(kind), p, m, v}, 64);
        QVERIFY(!validate_schedule(s));
        Run run(s);
        const StepOutcome out = execute_step(s, run.stages, 1, {}, nullptr);
        QCOMPARE(out.loss, expected_loss(s.n_chunks(), m));
        QCOMPARE(out.timeline.events.size(), s.action_count());
        for (const auto& st : run.owned)
            for (int c = 0; c < s.n_chunks(); ++c)
                QCOMPARE(st->w_calls[c], s.rank_of(c) == int(&st - &run.owned[0]) ? m : 0);
        // Events per rank follow the schedule and do not overlap; memory returns to static.
        for (int r = 0; r < p; ++r) {
            double prev_end = 0;
            std::size_t idx = 0;
            for (const auto& e : out.timeline.events) {
                if (e.rank != r) continue;
                QCOMPARE((Action{e.kind, e.chunk, e.microbatch}), s.ranks[r][idx++]);
                QVERIFY(e.start_us >= prev_end && e.end_us >= e.start_us);
                prev_end = e.end_us;
            }
            std::int64_t last_act = -1;
            for (const auto& mem : out.timeline.memory)
                if (mem.rank == r) {
                    last_act = mem.activations;
                    QCOMPARE(mem.params, std::int64_t(1000));
                    QVERIFY(mem.activations >= 0);
                }
            QCOMPARE(last_act, std::int64_t(0));
        }
    }

    // Activation memory from the executor's own samples: GPipe grows with m, 1F1B holds
    // min(p - r, m) microbatches on rank r.
    void memoryFollowsTheSchedule() {
        const std::int64_t per_mb = kSaved * 4;
        for (int m : {2, 4, 8}) {
            for (auto kind : {ScheduleKind::GPipe, ScheduleKind::OneFOneB}) {
                const Schedule s = make_schedule({kind, 4, m, 1}, 8);
                Run run(s);
                const Stats st = compute_stats(execute_step(s, run.stages, 1, {}, nullptr).timeline);
                for (int r = 0; r < 4; ++r) {
                    const int held = kind == ScheduleKind::GPipe ? m : std::min(4 - r, m);
                    QCOMPARE(st.ranks[r].peak_inflight_microbatches, held);
                    // Saved activations of `held` microbatches, plus boundary buffers: a few of
                    // the rank's own and at most m waiting in its mailbox.
                    const std::int64_t peak = st.ranks[r].peak_activation_bytes;
                    QVERIFY2(peak >= held * per_mb && peak <= held * per_mb + (m + 4) * kN * 4,
                             qPrintable(QString("m=%1 rank %2 peak %3").arg(m).arg(r).arg(peak)));
                }
            }
        }
    }

    void failureNamesRankAndAction() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 8, 1}, 8);
        Run run(s);
        run.owned[2]->hook = [](ActionKind k, int c, int mb) {
            if (k == ActionKind::F && c == 2 && mb == 3) throw std::runtime_error("injected failure");
        };
        const auto t0 = std::chrono::steady_clock::now();
        try {
            execute_step(s, run.stages, 1, {}, nullptr);
            QFAIL("failure not reported");
        } catch (const ExecutorError& e) {
            QCOMPARE(e.rank, 2);
            QVERIFY2(QString(e.what()).startsWith("rank 2, action #") &&
                         QString(e.what()).contains("(2F3): injected failure"),
                     e.what());
            // The same marked grid the validator prints.
            QVERIFY2(QString::fromStdString(e.grid).contains("> rank 2:") &&
                         QString::fromStdString(e.grid).contains("[2F3]"),
                     e.grid.c_str());
        }
        QVERIFY(std::chrono::steady_clock::now() - t0 < 2s);
    }

    // Rank 1 finishes its actions long before rank 0 fails on its last one: nobody steps
    // the optimizer, so a failed step leaves the model as it was.
    void failedStepUpdatesNobody() {
        const Schedule s = split_backward(make_schedule({ScheduleKind::OneFOneB, 2, 4, 1}, 8), true);
        Run run(s);
        run.owned[0]->hook = [](ActionKind k, int c, int mb) {
            if (k == ActionKind::W && c == 0 && mb == 3) {
                std::this_thread::sleep_for(50ms);
                throw std::runtime_error("late failure");
            }
        };
        QVERIFY_THROWS_EXCEPTION(ExecutorError, execute_step(s, run.stages, 1, {}, nullptr));
        QCOMPARE(run.owned[0]->optimizer_calls, 0);
        QCOMPARE(run.owned[1]->optimizer_calls, 0);
        // A clean step steps every rank once.
        run.owned[0]->hook = nullptr;
        execute_step(s, run.stages, 2, {}, nullptr);
        QCOMPARE(run.owned[0]->optimizer_calls, 1);
        QCOMPARE(run.owned[1]->optimizer_calls, 1);
    }

    // Buffers sent to a slow rank count on that rank, as messages, while they wait in its
    // mailbox; once received they are its activations.
    void mailboxBytesCountOnTheReceiver() {
        const Schedule s = make_schedule({ScheduleKind::GPipe, 2, 8, 1}, 8);
        Run run(s);
        run.owned[1]->hook = [](ActionKind k, int, int) {
            if (k == ActionKind::F) std::this_thread::sleep_for(20ms);
        };
        const Timeline tl = execute_step(s, run.stages, 1, {}, nullptr).timeline;
        // While rank 1 runs its first forward (20 ms), rank 0 sends the other 7 activations.
        std::int64_t most = 0;
        for (const auto& m : tl.memory)
            if (m.rank == 1) most = std::max(most, m.messages);
        QVERIFY2(most >= 6 * kN * 4, qPrintable(QString::number(most)));
        for (int r = 0; r < 2; ++r) {  // every message was received by the end
            std::int64_t last = -1;
            for (const auto& m : tl.memory)
                if (m.rank == r) last = m.messages;
            QCOMPARE(last, std::int64_t(0));
        }
    }

    void splitBackwardRunsIThenW() {
        // B split into I + W with every W deferred to the end of its rank's list.
        const Schedule s = split_backward(make_schedule({ScheduleKind::OneFOneB, 3, 4, 1}, 8), true);
        QVERIFY(!validate_schedule(s));
        Run run(s);
        const StepOutcome o = execute_step(s, run.stages, 1, {}, nullptr);
        QCOMPARE(o.loss, expected_loss(3, 4));
        for (int r = 0; r < 3; ++r) QCOMPARE(run.owned[r]->w_calls[r], 4);
        // Deferring W keeps every microbatch's activations until the end: all 4 held.
        const Stats st = compute_stats(o.timeline);
        for (int r = 0; r < 3; ++r) QCOMPARE(st.ranks[r].peak_inflight_microbatches, 4);
    }

    // A reused receive buffer carries the receiver's mark after its last use: the copy
    // into it is ordered after that mark only (on a GPU, waiting for the receiver's whole
    // queue instead would serialise ranks that share the device).
    void reusedBuffersCarryTheirOwnersFence() {
        struct FencingDevice final : Device {
            HostDevice host;
            std::mutex mu;
            std::vector<std::vector<std::uint64_t>> marks;  // tokens recorded per rank
            int fenced_copies = 0;
            std::string problem;
            explicit FencingDevice(int p) : host(p), marks(static_cast<std::size_t>(p)) {}
            std::string kind() const override { return "test"; }
            std::string label(int r) const override { return host.label(r); }
            DeviceBuffer allocate(int r, std::int64_t b) override { return host.allocate(r, b); }
            void release(int r, DeviceBuffer b) override { host.release(r, b); }
            std::uint64_t copy_to_rank(int src, int dst, const DeviceBuffer& from, const DeviceBuffer& to,
                                       std::uint64_t fence) override {
                std::lock_guard lk(mu);
                if (fence != 0) {
                    ++fenced_copies;
                    const auto& m = marks[static_cast<std::size_t>(dst)];
                    if (static_cast<int>(fence >> 32) != dst || std::find(m.begin(), m.end(), fence) == m.end())
                        problem =
                            "fence " + std::to_string(fence) + " is not a recorded mark of rank " + std::to_string(dst);
                }
                return host.copy_to_rank(src, dst, from, to, fence);
            }
            void start_clock() override {
                host.start_clock();
                for (auto& m : marks) m.clear();
            }
            std::uint64_t mark(int r) override {
                host.mark(r);
                std::lock_guard lk(mu);
                auto& m = marks[static_cast<std::size_t>(r)];
                m.push_back((static_cast<std::uint64_t>(r) << 32) | (m.size() + 1));
                return m.back();
            }
            std::vector<double> mark_times_us(int r) override { return host.mark_times_us(r); }
            bool all_finite(int r, const float* d, std::int64_t n) override { return host.all_finite(r, d, n); }
        };
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 8, 1}, 8);
        Run run(s);
        FencingDevice device(4);
        Executor ex(s, run.stages, device);
        for (int step = 1; step <= 2; ++step) {
            const StepOutcome out = ex.step(step);
            QCOMPARE(out.loss, expected_loss(s.n_chunks(), 8));
        }
        QVERIFY2(device.problem.empty(), device.problem.c_str());
        QVERIFY(device.fenced_copies > 0);  // steady state reuses receive buffers
    }

    void nanCheck() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 2, 2, 1}, 8);
        Run run(s);
        struct NanStage : FakeStage {
            using FakeStage::FakeStage;
            void forward(int c, int mb, const float* in, std::byte* saved, float* out) override {
                FakeStage::forward(c, mb, in, saved, out);
                if (out && mb == 1) out[5] = std::nanf("");
            }
        } nan_stage(2);
        run.stages[0] = &nan_stage;
        ExecutorOptions opts;
        opts.check_finite = true;
        try {
            execute_step(s, run.stages, 1, opts, nullptr);
            QFAIL("NaN not caught");
        } catch (const ExecutorError& e) {
            QVERIFY2(QString(e.what()).contains("(0F1): non-finite value in forward output"), e.what());
        }
    }

    void cancellationIsPrompt() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 64, 1}, 8);
        Run run(s);
        for (auto& st : run.owned) st->hook = [](ActionKind, int, int) { std::this_thread::sleep_for(2ms); };
        std::atomic<bool> cancel{false};
        std::thread canceller([&] {
            std::this_thread::sleep_for(30ms);
            cancel = true;
        });
        const auto t0 = std::chrono::steady_clock::now();
        QVERIFY_THROWS_EXCEPTION(RunCancelled, execute_step(s, run.stages, 1, {}, &cancel));
        const auto took = std::chrono::steady_clock::now() - t0;
        canceller.join();
        // The full step would take > 64 * 3 * 2 ms; a cancel returns long before.
        QVERIFY2(took < 300ms, qPrintable(QString::number(std::chrono::duration<double, std::milli>(took).count())));
    }

    void watchdogReportsAStall() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 2, 2, 1}, 8);
        Run run(s);
        run.owned[0]->hook = [](ActionKind k, int, int mb) {
            if (k == ActionKind::F && mb == 0) std::this_thread::sleep_for(600ms);  // a hung kernel
        };
        ExecutorOptions opts;
        opts.watchdog_s = 0.2;
        try {
            execute_step(s, run.stages, 1, opts, nullptr);
            QFAIL("stall not reported");
        } catch (const ExecutorError& e) {
            QCOMPARE(e.rank, 1);
            QVERIFY2(QString(e.what()).contains(
                         "(1RECV_F0): stalled: waited 0.2 s for rank 0's 0SEND_F0; rank 0 is at #0 (0F0)"),
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestExecutor)
#include "tst_executor.moc"
