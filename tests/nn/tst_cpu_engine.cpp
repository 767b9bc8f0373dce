// The CPU engine end to end: a pipelined step computes what the unpartitioned model
// computes, for every schedule and partition; runs are deterministic; memory comes from
// the executor's own samples; training lowers the loss; failures and cancellation end a
// run promptly.
#include <QtTest>

#include <chrono>
#include <cmath>
#include <thread>

#include "core/nn/cpu_backend.h"
#include "core/simulator.h"
#include "core/stats.h"

using namespace pipelab;
using namespace pipelab::nn;

namespace {

RunConfig small_config(ScheduleKind kind, int p, int m, int v, std::vector<int> cuts = {}) {
    RunConfig cfg;
    cfg.model = {64, 32, 4, 6, 64, 16, 2};  // vocab, d_model, heads, blocks, d_ff, seq, B
    cfg.pipeline = {kind, p, m, v, std::move(cuts), false, {}};
    cfg.training.data = "synthetic";
    cfg.seed = 42;
    return cfg;
}

// The unpartitioned model: every layer on one set of buffers, microbatches in order, B as
// one fused backward per layer. Returns the mean loss; grads hold the sum over microbatches.
struct Reference {
    std::vector<GptLayer> layers;
    std::vector<std::vector<float>> params, grads;
    double loss = 0;

    explicit Reference(const RunConfig& cfg) : layers(GptLayer::build(cfg.model)) {
        const TokenData data = TokenData::synthetic(cfg.model.vocab);
        const GptDims d = gpt_dims(cfg.model);
        const auto btc = static_cast<std::size_t>(d.B) * d.T * d.C;
        std::vector<int> tokens(static_cast<std::size_t>(d.B) * d.T), targets(tokens.size());
        for (const GptLayer& l : layers) {
            params.emplace_back(static_cast<std::size_t>(l.param_count()));
            grads.emplace_back(static_cast<std::size_t>(l.param_count()), 0.0f);
            l.init_params(params.back().data(), cfg.seed);
        }
        const std::size_t n = layers.size();
        for (int mb = 0; mb < cfg.pipeline.microbatches; ++mb) {
            data.batch(cfg.seed, 1, mb, d.B, d.T, tokens.data(), targets.data());
            std::vector<std::vector<std::byte>> acts(n), pending(n);
            std::vector<std::vector<float>> outs(n, std::vector<float>(btc));
            std::size_t max_scratch = 0;
            for (std::size_t i = 0; i < n; ++i) {
                acts[i].resize(static_cast<std::size_t>(layers[i].activation_bytes()));
                pending[i].resize(static_cast<std::size_t>(layers[i].pending_bytes()));
                max_scratch = std::max(max_scratch, static_cast<std::size_t>(layers[i].scratch_bytes()));
                const LayerInput in{i > 0 ? outs[i - 1].data() : nullptr, tokens.data(), targets.data()};
                const float l = layers[i].forward(params[i].data(), in, outs[i].data(), acts[i].data());
                if (i + 1 == n) loss += l;
            }
            std::vector<std::byte> scratch(max_scratch);
            std::vector<float> dout(btc), dinp(btc);
            for (std::size_t i = n; i-- > 0;) {
                layers[i].backward(params[i].data(), grads[i].data(), dout.data(), acts[i].data(), pending[i].data(),
                                   scratch.data(), dinp.data());
                std::swap(dout, dinp);
            }
        }
        loss /= cfg.pipeline.microbatches;
    }
};

// max |a - b| / max |b| over one tensor.
double rel_error(const float* a, const std::vector<float>& b) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        diff = std::max(diff, double(std::abs(a[i] - b[i])));
        scale = std::max(scale, double(std::abs(b[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

// A real stage that throws at one action: failure injection with the real maths around it.
struct ThrowingStage : StageCompute {
    StageCompute& inner;
    int chunk, mb;
    ThrowingStage(StageCompute& s, int c, int m) : inner(s), chunk(c), mb(m) {}
    ChunkSizes buffers(int c) const override { return inner.buffers(c); }
    std::int64_t param_bytes() const override { return inner.param_bytes(); }
    std::int64_t grad_bytes() const override { return inner.grad_bytes(); }
    std::int64_t optimizer_bytes() const override { return inner.optimizer_bytes(); }
    void zero_grad() override { inner.zero_grad(); }
    void forward(int c, int m, const float* in, std::byte* saved, float* out) override {
        inner.forward(c, m, in, saved, out);
    }
    void recompute(int c, int m, const float* in, std::byte* saved) override { inner.recompute(c, m, in, saved); }
    void backward_input(int c, int m, const float* dout, std::byte* saved, std::byte* pend, float* din) override {
        if (c == chunk && m == mb) throw std::runtime_error("injected fault in backward");
        inner.backward_input(c, m, dout, saved, pend, din);
    }
    void backward_weight(int c, int m, const std::byte* saved, const std::byte* pend) override {
        inner.backward_weight(c, m, saved, pend);
    }
    double loss_sum() override { return inner.loss_sum(); }
    void optimizer_step(int s) override { inner.optimizer_step(s); }
};

}  // namespace

class TestCpuEngine : public QObject {
    Q_OBJECT
private slots:
    void pipelinedGradientsEqualUnpartitioned_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("v");
        QTest::addColumn<QList<int>>("cuts");  // empty = balanced
        QTest::addColumn<int>("split");        // 0: B, 1: I then W at once, 2: every W deferred
        const int G = int(ScheduleKind::GPipe), O = int(ScheduleKind::OneFOneB), I = int(ScheduleKind::Interleaved);
        QTest::newRow("gpipe p=4 balanced") << G << 4 << 4 << 1 << QList<int>{} << 0;
        QTest::newRow("gpipe p=2 skewed") << G << 2 << 3 << 1 << QList<int>{6} << 0;
        QTest::newRow("1f1b p=4 balanced") << O << 4 << 6 << 1 << QList<int>{} << 0;
        QTest::newRow("1f1b p=3 skewed") << O << 3 << 5 << 1 << QList<int>{1, 2} << 0;
        QTest::newRow("1f1b p=8 one layer each") << O << 8 << 8 << 1 << QList<int>{} << 0;
        QTest::newRow("1f1b p=1") << O << 1 << 3 << 1 << QList<int>{} << 0;
        QTest::newRow("interleaved p=2 v=2 balanced") << I << 2 << 4 << 2 << QList<int>{} << 0;
        QTest::newRow("interleaved p=2 v=3 skewed") << I << 2 << 2 << 3 << QList<int>{1, 2, 3, 4, 7} << 0;
        QTest::newRow("interleaved p=4 v=2") << I << 4 << 4 << 2 << QList<int>{} << 0;
        QTest::newRow("1f1b p=4 split I+W") << O << 4 << 6 << 1 << QList<int>{} << 1;
        QTest::newRow("1f1b p=3 W deferred") << O << 3 << 5 << 1 << QList<int>{1, 2} << 2;
        QTest::newRow("interleaved p=2 v=2 W deferred") << I << 2 << 4 << 2 << QList<int>{} << 2;
        QTest::newRow("zb-greedy p=4") << int(ScheduleKind::ZeroBubble) << 4 << 8 << 1 << QList<int>{} << 0;
        QTest::newRow("zb-greedy p=3 skewed") << int(ScheduleKind::ZeroBubble) << 3 << 5 << 1 << QList<int>{1, 2} << 0;
        // PyTorch's rounds: m = 6 on p = 4 is one round of 6.
        QTest::newRow("interleaved p=4 v=2 m=6") << I << 4 << 6 << 2 << QList<int>{} << 0;
        const int BFS = int(ScheduleKind::LoopedBFS), IZB = int(ScheduleKind::InterleavedZB);
        const int H1 = int(ScheduleKind::ZBH1), H2 = int(ScheduleKind::ZBH2), ZV = int(ScheduleKind::ZBV),
                  DP = int(ScheduleKind::DualPipeV);
        QTest::newRow("bfs p=2 v=2") << BFS << 2 << 3 << 2 << QList<int>{} << 0;
        QTest::newRow("bfs p=4 v=1") << BFS << 4 << 5 << 1 << QList<int>{} << 0;
        QTest::newRow("interleaved-zb p=2 v=2") << IZB << 2 << 4 << 2 << QList<int>{} << 0;
        QTest::newRow("interleaved-zb p=4 v=2 m=6") << IZB << 4 << 6 << 2 << QList<int>{} << 0;
        QTest::newRow("interleaved-zb p=3 v=1") << IZB << 3 << 5 << 1 << QList<int>{} << 0;
        QTest::newRow("zb-h1 p=4") << H1 << 4 << 8 << 1 << QList<int>{} << 0;
        QTest::newRow("zb-h1 p=3 skewed") << H1 << 3 << 5 << 1 << QList<int>{1, 2} << 0;
        QTest::newRow("zb-h2 p=4") << H2 << 4 << 8 << 1 << QList<int>{} << 0;
        QTest::newRow("zb-v p=2") << ZV << 2 << 4 << 2 << QList<int>{} << 0;
        QTest::newRow("zb-v p=2 skewed m=3") << ZV << 2 << 3 << 2 << QList<int>{1, 2, 6} << 0;
        QTest::newRow("zb-v p=4") << ZV << 4 << 8 << 2 << QList<int>{} << 0;
        QTest::newRow("dualpipev p=2") << DP << 2 << 5 << 2 << QList<int>{} << 0;
        QTest::newRow("dualpipev p=2 skewed") << DP << 2 << 4 << 2 << QList<int>{1, 2, 6} << 0;
        QTest::newRow("dualpipev p=4") << DP << 4 << 8 << 2 << QList<int>{} << 0;
    }
    void pipelinedGradientsEqualUnpartitioned() {
        QFETCH(int, kind);
        QFETCH(int, p);
        QFETCH(int, m);
        QFETCH(int, v);
        QFETCH(QList<int>, cuts);
        QFETCH(int, split);
        const RunConfig cfg = small_config(ScheduleKind(kind), p, m, v, std::vector<int>(cuts.begin(), cuts.end()));
        Plan plan = make_plan(cfg);
        if (split) plan.schedule = split_backward(plan.schedule, split == 2);
        CpuTrainer trainer(cfg, plan);
        for (int r = 0; r < trainer.n_ranks(); ++r) trainer.stage(r).set_apply_optimizer(false);
        const StepOutcome out = trainer.step(1);
        const Reference ref(cfg);

        const double loss_err = std::abs(out.loss - ref.loss) / std::abs(ref.loss);
        QVERIFY2(loss_err <= 1e-5,
                 qPrintable(QString("loss %1 vs %2").arg(out.loss, 0, 'g', 9).arg(ref.loss, 0, 'g', 9)));
        double worst = 0;
        int worst_layer = -1;
        for (std::size_t l = 0; l < ref.layers.size(); ++l) {
            const CpuStage& st = trainer.stage_of_layer(int(l));
            QCOMPARE(rel_error(st.layer_params(int(l)), ref.params[l]), 0.0);  // same init everywhere
            // A layer whose gradient is all zeros would compare equal for the wrong reason.
            QVERIFY(std::any_of(ref.grads[l].begin(), ref.grads[l].end(), [](float g) { return g != 0.0f; }));
            const double e = rel_error(st.layer_grads(int(l)), ref.grads[l]);
            if (e > worst) {
                worst = e;
                worst_layer = int(l);
            }
        }
        qInfo("max relative gradient error %.2e (layer %d), loss error %.2e", worst, worst_layer, loss_err);
        QVERIFY2(worst <= 1e-5, qPrintable(QString("layer %1: relative error %2").arg(worst_layer).arg(worst)));
    }

    // Activation recomputation: the R actions rebuild bit-identical activations, so every
    // gradient still equals the unpartitioned model's, for every schedule.
    void recomputationKeepsGradients_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("v");
        QTest::addColumn<QList<int>>("chunks");  // empty = every chunk
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
            const auto kind = ScheduleKind(k);
            for (int v : {1, 2}) {
                const ScheduleSpec spec{kind, 2, 4, v};
                if (check_schedule_spec(spec, 8)) continue;  // the ones this kind accepts
                const QString name = QString::fromStdString(std::string(to_string(kind)));
                QTest::newRow(qPrintable(name + " v=" + QString::number(v) + " all"))
                    << k << 2 << 4 << v << QList<int>{};
                QTest::newRow(qPrintable(name + " v=" + QString::number(v) + " chunk 0"))
                    << k << 2 << 4 << v << QList<int>{0};
            }
        }
    }
    void recomputationKeepsGradients() {
        QFETCH(int, kind);
        QFETCH(int, p);
        QFETCH(int, m);
        QFETCH(int, v);
        QFETCH(QList<int>, chunks);
        RunConfig cfg = small_config(ScheduleKind(kind), p, m, v);
        cfg.pipeline.recompute_all = chunks.isEmpty();
        cfg.pipeline.recompute_chunks.assign(chunks.begin(), chunks.end());
        const Plan plan = make_plan(cfg);
        int n_r = 0;
        for (const auto& row : plan.schedule.ranks)
            n_r += int(std::count_if(row.begin(), row.end(), [](const Action& a) { return a.kind == ActionKind::R; }));
        QCOMPARE(n_r, (chunks.isEmpty() ? plan.schedule.n_chunks() : int(chunks.size())) * m);
        CpuTrainer trainer(cfg, plan);
        for (int r = 0; r < trainer.n_ranks(); ++r) trainer.stage(r).set_apply_optimizer(false);
        const StepOutcome out = trainer.step(1);
        const Reference ref(cfg);
        QVERIFY2(std::abs(out.loss - ref.loss) <= 1e-5 * std::abs(ref.loss),
                 qPrintable(QString("loss %1 vs %2").arg(out.loss, 0, 'g', 9).arg(ref.loss, 0, 'g', 9)));
        for (std::size_t l = 0; l < ref.layers.size(); ++l) {
            const double e = rel_error(trainer.stage_of_layer(int(l)).layer_grads(int(l)), ref.grads[l]);
            QVERIFY2(e <= 1e-5, qPrintable(QString("layer %1: relative error %2").arg(l).arg(e)));
        }
    }

    // The simulator's memory is the executor's: for every schedule, partition and
    // recomputation choice, simulated peak activation bytes, parameters and workspace
    // equal what the CPU engine allocated, rank by rank, to the byte.
    void simulatedMemoryEqualsExecutor_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("v");
        QTest::addColumn<QList<int>>("cuts");
        QTest::addColumn<bool>("recompute");
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
            const auto kind = ScheduleKind(k);
            const QString name = QString::fromStdString(std::string(to_string(kind)));
            for (int v : {1, 2}) {
                for (int p : {2, 4}) {
                    const int m = 2 * p;
                    if (check_schedule_spec({kind, p, m, v}, 8)) continue;
                    for (bool rc : {false, true}) {
                        const QString row =
                            QString("%1 p=%2 v=%3%4").arg(name).arg(p).arg(v).arg(rc ? " recompute" : "");
                        QTest::newRow(qPrintable(row + " balanced")) << k << p << m << v << QList<int>{} << rc;
                        if (p * v == 2)
                            QTest::newRow(qPrintable(row + " skewed")) << k << p << m << v << QList<int>{1} << rc;
                        if (p * v == 4)
                            QTest::newRow(qPrintable(row + " skewed")) << k << p << m << v << QList<int>{1, 2, 6} << rc;
                    }
                }
            }
        }
    }
    void simulatedMemoryEqualsExecutor() {
        QFETCH(int, kind);
        QFETCH(int, p);
        QFETCH(int, m);
        QFETCH(int, v);
        QFETCH(QList<int>, cuts);
        QFETCH(bool, recompute);
        RunConfig cfg = small_config(ScheduleKind(kind), p, m, v, std::vector<int>(cuts.begin(), cuts.end()));
        cfg.pipeline.recompute_all = recompute;
        const Plan plan = make_plan(cfg);
        CpuTrainer trainer(cfg, plan);
        const Stats real = compute_stats(trainer.step(1).timeline);
        const Timeline sim_tl = simulate(plan.schedule, plan.partition, plan.cost);
        const Stats sim = compute_stats(sim_tl);
        for (int r = 0; r < p; ++r) {
            QCOMPARE(sim.ranks[r].peak_activation_bytes, real.ranks[r].peak_activation_bytes);
            QCOMPARE(sim.ranks[r].peak_inflight_microbatches, real.ranks[r].peak_inflight_microbatches);
            const auto first = [&](const Timeline& tl) {
                for (const auto& s : tl.memory)
                    if (s.rank == r) return s;
                return MemorySample{};
            };
            QCOMPARE(first(sim_tl).params, trainer.stage(r).param_bytes());
            QCOMPARE(first(sim_tl).optimizer, trainer.stage(r).optimizer_bytes());
            QCOMPARE(first(sim_tl).workspace, trainer.stage(r).workspace_bytes());
        }
    }

    void runsAreBitwiseDeterministic() {
        const RunConfig cfg = small_config(ScheduleKind::OneFOneB, 4, 8, 1);
        const Plan plan = make_plan(cfg);
        std::vector<std::vector<float>> first;
        std::vector<double> first_losses;
        for (int run = 0; run < 2; ++run) {
            CpuTrainer trainer(cfg, plan);
            std::vector<double> losses;
            for (int s = 1; s <= 3; ++s) losses.push_back(trainer.step(s).loss);
            std::vector<std::vector<float>> state;
            for (int l = 0; l < cfg.model.layers + 2; ++l) {
                const CpuStage& st = trainer.stage_of_layer(l);
                const auto n = static_cast<std::size_t>(GptLayer::build(cfg.model)[l].param_count());
                state.emplace_back(st.layer_params(l), st.layer_params(l) + n);
                state.emplace_back(st.layer_grads(l), st.layer_grads(l) + n);
            }
            if (run == 0) {
                first = std::move(state);
                first_losses = losses;
            } else {
                QCOMPARE(losses, first_losses);  // exact
                QVERIFY(state == first);         // bitwise
            }
        }
    }

    // Peak live activations from the executor's samples: GPipe grows with m; 1F1B holds
    // min(p - r, m) microbatches on rank r.
    void memoryFromExecutorSamples() {
        const int p = 4;
        std::vector<std::int64_t> gpipe_peaks;
        for (int m : {2, 4, 8}) {
            for (auto kind : {ScheduleKind::GPipe, ScheduleKind::OneFOneB}) {
                const RunConfig cfg = small_config(kind, p, m, 1, {2, 4, 6});  // 2 layers per rank
                const Plan plan = make_plan(cfg);
                CpuTrainer trainer(cfg, plan);
                const Stats st = compute_stats(trainer.step(1).timeline);
                for (int r = 0; r < p; ++r) {
                    const ChunkSizes b = trainer.stage(r).buffers(r);
                    const std::int64_t saved = b.saved;
                    // Transients at the peak: one microbatch's I->W state and a few (B,T,C)
                    // buffers of its own (messages still in the mailbox are not activations).
                    const std::int64_t slack = b.pending + 3 * b.boundary;
                    const int held = kind == ScheduleKind::GPipe ? m : std::min(p - r, m);
                    const std::int64_t peak = st.ranks[r].peak_activation_bytes;
                    QVERIFY2(peak >= held * saved && peak <= held * saved + slack,
                             qPrintable(QString("%1 m=%2 rank %3: peak %4, expected %5 + up to %6")
                                            .arg(QString::fromStdString(std::string(to_string(kind))))
                                            .arg(m)
                                            .arg(r)
                                            .arg(peak)
                                            .arg(held * saved)
                                            .arg(slack)));
                    QCOMPARE(st.ranks[r].peak_inflight_microbatches, held);
                }
                if (kind == ScheduleKind::GPipe) gpipe_peaks.push_back(st.ranks[0].peak_activation_bytes);
            }
        }
        QVERIFY(gpipe_peaks[0] < gpipe_peaks[1] && gpipe_peaks[1] < gpipe_peaks[2]);
    }

    void trainingLowersTheLoss() {
        RunConfig cfg = small_config(ScheduleKind::OneFOneB, 2, 4, 1);
        cfg.model = {256, 64, 4, 2, 256, 32, 4};
        cfg.training.data = PIPELAB_SAMPLES "/corpus_kjv.txt";
        cfg.training.lr = 3e-3;
        cfg.steps = 120;
        RunControl control;
        const RunResult r = run_cpu_backend(cfg, make_plan(cfg), control);
        QCOMPARE(r.losses.size(), std::size_t(120));
        double tail = 0;
        for (std::size_t i = 110; i < 120; ++i) tail += r.losses[i] / 10;
        qInfo("loss %.3f at step 1, mean %.3f over steps 111-120", r.losses.front(), tail);
        QVERIFY(r.losses.front() > 5.0);  // ~ln(256) = 5.55 at init
        QVERIFY2(tail < 3.0, qPrintable(QString::number(tail)));
    }

    void failureInARealStageNamesTheRank() {
        const RunConfig cfg = small_config(ScheduleKind::OneFOneB, 4, 8, 1);
        const Plan plan = make_plan(cfg);
        CpuTrainer trainer(cfg, plan);
        ThrowingStage bad(trainer.stage(1), 1, 5);
        std::vector<StageCompute*> stages;
        for (int r = 0; r < 4; ++r) stages.push_back(r == 1 ? static_cast<StageCompute*>(&bad) : &trainer.stage(r));
        const auto t0 = std::chrono::steady_clock::now();
        try {
            execute_step(plan.schedule, stages, 1, {}, nullptr);
            QFAIL("fault not reported");
        } catch (const ExecutorError& e) {
            QCOMPARE(e.rank, 1);
            QVERIFY2(QString(e.what()).contains("(1B5): injected fault in backward"), e.what());
        }
        QVERIFY(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    }

    void cancellationMidRun() {
        RunConfig cfg = small_config(ScheduleKind::OneFOneB, 2, 8, 1);
        cfg.steps = 100000;  // would run for minutes
        RunControl control;
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            control.cancel = true;
        });
        const auto t0 = std::chrono::steady_clock::now();
        QVERIFY_THROWS_EXCEPTION(RunCancelled, run_cpu_backend(cfg, make_plan(cfg), control));
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        canceller.join();
        qInfo("cancelled after %.0f ms", ms);
        QVERIFY(ms < 2000);
    }

    void missingCorpusIsAConfigError() {
        RunConfig cfg = small_config(ScheduleKind::OneFOneB, 2, 2, 1);
        cfg.model.vocab = 256;
        cfg.training.data = "/nonexistent/corpus.txt";
        try {
            CpuTrainer trainer(cfg, make_plan(cfg));
            QFAIL("missing corpus accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).contains("\"training.data\": cannot open training text /nonexistent/corpus.txt"),
                     e.what());
        }
        cfg.training.data = PIPELAB_SAMPLES "/corpus_kjv.txt";
        cfg.model.vocab = 64;
        QVERIFY_THROWS_EXCEPTION(ConfigError, CpuTrainer(cfg, make_plan(cfg)));
    }
};

QTEST_GUILESS_MAIN(TestCpuEngine)
#include "tst_cpu_engine.moc"
