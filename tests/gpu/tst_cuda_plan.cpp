// What the CUDA backend decides before touching a GPU (gpu/cuda_plan.h), on any machine:
// the config's "cuda" section, rank placement, the per-rank memory estimate and the
// refusal message.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/gpt_tensors.h"
#include "core/run_config.h"
#include "gpu/cuda_plan.h"
#if PIPELAB_HAVE_CPU_BACKEND
#include "core/nn/cpu_backend.h"
#endif

using namespace pipelab;
using namespace pipelab::gpu;

class TestCudaPlan : public QObject {
    Q_OBJECT
private slots:
    void config_section() {
        const RunConfig c =
            parse_run_config(R"({"pipeline": {"stages": 2}, "cuda": {"devices": [0, 1], "precision": "bf16"}})");
        QCOMPARE(c.cuda.devices, (std::vector<int>{0, 1}));
        QCOMPARE(c.cuda.precision, std::string("bf16"));
        // round trip, the default section included
        const RunConfig d = run_config_from_json(run_config_to_json(RunConfig{}));
        QVERIFY(d.cuda.devices.empty());
        QCOMPARE(d.cuda.precision, std::string("fp32"));
        QCOMPARE(run_config_from_json(run_config_to_json(c)).cuda.devices, c.cuda.devices);
    }

    void config_errors_name_the_field_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        QTest::newRow("one per rank") << R"({"cuda": {"devices": [0, 0, 1]}})"
                                      << "cuda.devices"
                                      << "one GPU index per pipeline rank (pipeline.stages = 4), got 3";
        QTest::newRow("negative") << R"({"pipeline": {"stages": 1}, "cuda": {"devices": [-1]}})"
                                  << "cuda.devices[0]"
                                  << "must be a GPU index";
        QTest::newRow("not a list") << R"({"cuda": {"devices": 0}})"
                                    << "cuda.devices"
                                    << "must be an array";
        QTest::newRow("precision") << R"({"cuda": {"precision": "fp16"}})"
                                   << "cuda.precision"
                                   << "allowed: fp32, tf32, bf16";
        QTest::newRow("typo") << R"({"cuda": {"device": [0]}})"
                              << "cuda.device"
                              << "unknown field";
    }
    void config_errors_name_the_field() {
        QFETCH(QString, json);
        QFETCH(QString, field);
        QFETCH(QString, says);
        try {
            parse_run_config(json.toStdString());
            QFAIL("accepted");
        } catch (const ConfigError& e) {
            QCOMPARE(QString::fromStdString(e.field), field);
            QVERIFY2(QString(e.what()).contains(says), e.what());
        }
    }

    void placement() {
        QCOMPARE(place_ranks({}, 4, 2), (std::vector<int>{0, 1, 0, 1}));  // round-robin
        QCOMPARE(place_ranks({}, 3, 1), (std::vector<int>{0, 0, 0}));
        QCOMPARE(place_ranks({1, 1, 0, 0}, 4, 2), (std::vector<int>{1, 1, 0, 0}));
        try {
            place_ranks({0, 2}, 2, 2);
            QFAIL("GPU 2 of 2 accepted");
        } catch (const ConfigError& e) {
            QCOMPARE(QString::fromStdString(e.field), QString("cuda.devices[1]"));
            QVERIFY2(QString(e.what()).contains("GPU 2 does not exist (2 visible: 0..1)"), e.what());
        }
    }

    // The stage's buffers: parameters from the tensor tables, a bf16 copy and cast buffers
    // only in bf16, data buffers only on ranks with the embedding or the head.
    void stage_layout_follows_the_tables() {
        RunConfig cfg;
        cfg.pipeline.stages = 2;
        const Plan plan = make_plan(cfg);
        const GptDims d = gpt_dims(cfg.model);
        std::vector<int> rank0, rank1;
        for (int c = 0; c < plan.schedule.n_chunks(); ++c) (plan.schedule.rank_of(c) == 0 ? rank0 : rank1).push_back(c);
        const StageLayout a = stage_layout(cfg.model, plan.partition, rank0, 8, Precision::FP32);
        std::int64_t params = 0;
        for (int l = plan.partition.first_layer(rank0.front()); l < plan.partition.end_layer(rank0.back()); ++l)
            params += plan.layers[static_cast<std::size_t>(l)].params;
        QCOMPARE(a.n_params, params);
        QCOMPARE(a.param_bytes(), params * 4);
        QCOMPARE(a.optimizer_bytes(), params * 8);
        QCOMPARE(a.cast_elems, std::int64_t{0});
        QCOMPARE(a.data_ints, std::int64_t{2} * 8 * d.B * d.T);  // tokens + targets of 8 microbatches
        // attention's backward scratch holds every head's (T, T)
        QVERIFY(a.scratch_bytes >= std::int64_t{d.NH} * d.T * d.T * 4);
        const StageLayout b = stage_layout(cfg.model, plan.partition, rank1, 8, Precision::BF16);
        QCOMPARE(b.param_bytes(), b.n_params * 6);
        QVERIFY(b.cast_elems >= std::int64_t{d.B} * d.T * d.V);  // the head's logits gradient
        QVERIFY(b.workspace_bytes() > a.workspace_bytes());
    }

    void estimate_counts_resident_and_peak_activations() {
        RunConfig cfg;
        cfg.pipeline.schedule = ScheduleKind::GPipe;
        const Plan plan = make_plan(cfg);
        const auto m = estimate_memory(cfg, plan, {0, 0, 0, 0}, Precision::FP32);
        QCOMPARE(int(m.size()), 4);
        for (const RankMemory& r : m) {
            QVERIFY(r.resident > 0);
            QVERIFY(r.peak_activations > 0);
        }
        // GPipe holds every microbatch: twice the microbatches, more activation memory.
        cfg.pipeline.microbatches *= 2;
        const auto m2 = estimate_memory(cfg, make_plan(cfg), {0, 0, 0, 0}, Precision::FP32);
        QVERIFY(m2[0].peak_activations > m[0].peak_activations);
    }

    // The estimate's activations are the executor's: the CPU engine, which allocates by the
    // same memory rule, reaches the same per-rank peak of activation bytes.
    void estimate_matches_the_executor_data() {
        QTest::addColumn<int>("schedule");
        QTest::newRow("gpipe") << int(ScheduleKind::GPipe);
        QTest::newRow("1f1b") << int(ScheduleKind::OneFOneB);
        QTest::newRow("zb-greedy") << int(ScheduleKind::ZeroBubble);
    }
    void estimate_matches_the_executor() {
#if PIPELAB_HAVE_CPU_BACKEND
        QFETCH(int, schedule);
        RunConfig cfg;
        cfg.model.vocab = 64, cfg.model.d_model = 32, cfg.model.layers = 4, cfg.model.d_ff = 64;
        cfg.model.seq_len = 16, cfg.model.microbatch_size = 2;
        cfg.pipeline.schedule = static_cast<ScheduleKind>(schedule);
        const Plan plan = make_plan(cfg);
        const auto est = estimate_memory(cfg, plan, {0, 0, 0, 0}, Precision::FP32);
        nn::CpuTrainer trainer(cfg, plan);
        const Timeline tl = trainer.step(1).timeline;
        std::vector<std::int64_t> peak(4, 0);
        for (const MemorySample& m : tl.memory) peak[m.rank] = std::max(peak[m.rank], m.activations);
        for (int r = 0; r < 4; ++r) {
            qInfo("rank %d: estimate %lld, executor %lld", r, static_cast<long long>(est[r].peak_activations),
                  static_cast<long long>(peak[r]));
            // the estimate adds messages in flight on top; activations alone must agree
            QVERIFY2(est[r].peak_activations >= peak[r],
                     qPrintable(QString("rank %1: %2 < %3").arg(r).arg(est[r].peak_activations).arg(peak[r])));
            QVERIFY2(est[r].peak_activations <= peak[r] + 2 * plan.partition.n_chunks() * std::int64_t{2 * 16 * 32 * 4},
                     qPrintable(QString("rank %1: %2 vs %3").arg(r).arg(est[r].peak_activations).arg(peak[r])));
        }
#else
        QSKIP("built without the cpu backend");
#endif
    }

    void refusal_names_stage_gpu_and_free_memory() {
        const std::int64_t GiB = std::int64_t{1} << 30;
        std::vector<RankMemory> ranks = {
            {0, 0, 3 * GiB, GiB}, {1, 0, 4 * GiB, GiB}, {2, 0, 4 * GiB, GiB + GiB / 3}, {3, 1, GiB, 0}};
        QVERIFY(!check_fits(ranks, {{0, 20 * GiB, 80 * GiB}, {1, 2 * GiB, 80 * GiB}}));
        const auto msg = check_fits(ranks, {{0, 9 * GiB + GiB / 10, 80 * GiB}, {1, 40 * GiB, 80 * GiB}});
        QVERIFY(msg);
        QVERIFY2(msg->rfind("stage 2 needs 5.3 GiB on GPU 0 (3 ranks share it: 14.3 GiB), 9.1 GiB free", 0) == 0,
                 msg->c_str());
        // headroom: a plan that fills the GPU to the last byte is refused too
        const auto tight = check_fits({{0, 1, 4 * GiB, 0}}, {{1, 4 * GiB, 80 * GiB}});
        QVERIFY(tight);
        QVERIFY2(tight->rfind("stage 0 needs 4.0 GiB on GPU 1, 4.0 GiB free", 0) == 0, tight->c_str());
    }

    void precision_names() {
        QCOMPARE(parse_precision("tf32"), std::optional<Precision>(Precision::TF32));
        QVERIFY(!parse_precision("fp16"));
        QCOMPARE(std::string(to_string(Precision::BF16)), std::string("bf16"));
    }
};

QTEST_GUILESS_MAIN(TestCudaPlan)
#include "tst_cuda_plan.moc"
