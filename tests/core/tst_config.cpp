// Experiment config parsing: defaults, and every error names the field, the value and
// the allowed range.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/measured_costs.h"
#include "core/run_config.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"

using namespace pipelab;

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    // The rule every front end uses: a simulated run's measured layer costs are the cost
    // model's own, on every partition (the app overlays them on the model's bars).
    void measuredLayerCostsReadBackTheModel() {
        CostModel cost = uniform_cost_model(10, 100, 120, 80);
        for (int l = 0; l < 10; ++l) cost.layers[static_cast<std::size_t>(l)].fwd_us += 37.0 * l;  // uneven
        cost.layers.back().bwd_weight_us = 900;                                                    // a heavy head
        const std::vector<double> model = layer_step_costs_us(cost);
        QCOMPARE(model.size(), std::size_t(10));
        QCOMPARE(model[3], 100 + 3 * 37.0 + 120 + 80);
        for (const std::vector<int>& cuts : std::initializer_list<std::vector<int>>{{}, {2}, {8}})
            for (const ScheduleKind kind : {ScheduleKind::GPipe, ScheduleKind::OneFOneB, ScheduleKind::ZeroBubble}) {
                const Partition part = cuts.empty() ? balanced_by_cost(cost, 2) : partition_from_cuts(10, cuts);
                const Timeline tl = simulate(make_schedule({kind, 2, 4, 1}, 10), part, cost);
                const std::vector<double> measured = measured_layer_costs(tl, part, cost);
                QCOMPARE(measured.size(), model.size());
                for (std::size_t l = 0; l < model.size(); ++l)
                    QVERIFY2(std::abs(measured[l] - model[l]) < 1e-6 * model[l],
                             qPrintable(QString("layer %1: %2 vs %3").arg(l).arg(measured[l]).arg(model[l])));
            }
        // The balanced default evens the F+I+W sums to within one layer.
        const Partition even = balanced_by_cost(cost, 2);
        double a = 0, b = 0;
        for (int l = 0; l < 10; ++l) (l < even.end_layer(0) ? a : b) += model[static_cast<std::size_t>(l)];
        QVERIFY(std::abs(a - b) < model.back());
        // A partition that does not fit the cost model reads nothing.
        QVERIFY(measured_layer_costs(Timeline{}, partition_from_cuts(12, {6}), cost).empty());
    }

    void sameRunConfig() {
        RunConfig a;
        RunConfig b = a;
        QVERIFY(same_run_config(a, b));
        QVERIFY(a.model == b.model);
        b.model.d_ff += 1;
        QVERIFY(!(a.model == b.model));
        QVERIFY(!same_run_config(a, b));
        b = a;
        b.pipeline.microbatches += 1;
        QVERIFY(!same_run_config(a, b));
        b = a;
        b.base_dir = "/elsewhere";
        QVERIFY(!same_run_config(a, b));
    }

    void defaultsAndFullConfig() {
        const RunConfig d = parse_run_config("{}");
        QCOMPARE(d.pipeline.stages, 4);
        QCOMPARE(d.backend, std::string("sim"));
        const RunConfig c = parse_run_config(R"({
            "model": {"vocab": 512, "d_model": 256, "heads": 8, "layers": 12, "d_ff": 1024,
                      "seq_len": 128, "microbatch_size": 2},
            "pipeline": {"stages": 4, "microbatches": 8, "chunks": 2, "schedule": "interleaved",
                         "boundaries": [2, 4, 6, 8, 10, 12, 13]},
            "simulator": {"device_gflops": 50, "link_latency_us": 2, "link_bandwidth_gbps": 0},
            "backend": "sim", "steps": 3, "seed": 7})");
        QCOMPARE(c.model.d_model, 256);
        QCOMPARE(c.pipeline.schedule, ScheduleKind::Interleaved);
        QCOMPARE(c.pipeline.boundaries.size(), std::size_t(7));
        QCOMPARE(c.simulator.flops_per_s, 50e9);
        QCOMPARE(c.seed, std::uint64_t(7));
        const Plan plan = make_plan(c);
        QCOMPARE(plan.partition.bounds, (std::vector<int>{0, 2, 4, 6, 8, 10, 12, 13, 14}));
        QCOMPARE(plan.schedule.n_chunks(), 8);
        // Round trip through JSON.
        const RunConfig back = run_config_from_json(run_config_to_json(c));
        QCOMPARE(run_config_to_json(back).dump(), run_config_to_json(c).dump());
    }

    // V schedules run two chunks per rank: their default when the config omits chunks; an
    // explicit value is kept (and checked by the plan).
    void vSchedulesDefaultToTwoChunks() {
        QCOMPARE(parse_run_config(R"({"pipeline": {"schedule": "zb-v"}})").pipeline.chunks, 2);
        QCOMPARE(parse_run_config(R"({"pipeline": {"schedule": "dualpipev", "chunks": 3}})").pipeline.chunks, 3);
        QCOMPARE(parse_run_config(R"({"pipeline": {"schedule": "zb"}})").pipeline.schedule, ScheduleKind::ZeroBubble);
        QCOMPARE(parse_run_config(R"({"pipeline": {"schedule": "zb-h1"}})").pipeline.chunks, 1);
    }

    void errorsNameFieldAndRange_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        QTest::newRow("malformed json") << R"({"pipeline": {"stages": 4,}})"
                                        << "\"config\": not valid JSON";
        QTest::newRow("not an object") << "[1, 2]"
                                       << "\"config\": must be a JSON object";
        QTest::newRow("zero microbatches") << R"({"pipeline": {"microbatches": 0}})"
                                           << "\"pipeline.microbatches\": must be >= 1, got 0";
        QTest::newRow("string for int") << R"({"pipeline": {"stages": "four"}})"
                                        << "\"pipeline.stages\": must be an integer, got \"four\"";
        QTest::newRow("float for int") << R"({"model": {"layers": 2.5}})"
                                       << "\"model.layers\": must be an integer, got 2.5";
        QTest::newRow("bool for int") << R"({"steps": true})"
                                      << "\"steps\": must be an integer, got true";
        QTest::newRow("too large") << R"({"pipeline": {"stages": 5000}})"
                                   << "\"pipeline.stages\": must be <= 1024, got 5000";
        QTest::newRow("unknown schedule")
            << R"({"pipeline": {"schedule": "zigzag"}})"
            << "\"pipeline.schedule\": unknown schedule \"zigzag\" (allowed: gpipe, 1f1b, interleaved, zb-greedy, bfs, "
               "interleaved-zb, zb-h1, zb-h2, zb-v, dualpipev)";
        QTest::newRow("schedule not a string") << R"({"pipeline": {"schedule": 3}})"
                                               << "\"pipeline.schedule\": must be a string, got 3";
        QTest::newRow("unknown field") << R"({"pipeline": {"stage": 4}})"
                                       << "\"pipeline.stage\": unknown field";
        QTest::newRow("unknown top-level field") << R"({"modle": {}})"
                                                 << "\"modle\": unknown field";
        QTest::newRow("section not object") << R"({"model": 3})"
                                            << "\"model\": must be a JSON object, got 3";
        QTest::newRow("heads do not divide") << R"({"model": {"d_model": 130, "heads": 4}})"
                                             << "\"model.d_model\": must be a multiple of heads (4), got 130";
        QTest::newRow("unknown backend") << R"({"backend": "tpu"})"
                                         << "\"backend\": unknown backend \"tpu\"";
        QTest::newRow("negative seed") << R"({"seed": -1})"
                                       << "\"seed\": must be a non-negative integer, got -1";
        QTest::newRow("zero gflops") << R"({"simulator": {"device_gflops": 0}})"
                                     << "\"simulator.device_gflops\": must be > 0, got 0";
        QTest::newRow("boundary not int") << R"({"pipeline": {"boundaries": [1, "x"]}})"
                                          << "\"pipeline.boundaries[1]\": must be an integer layer index";
    }
    void errorsNameFieldAndRange() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        try {
            parse_run_config(json.toStdString());
            QFAIL("bad config accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).startsWith(message), e.what());
        }
    }

    // Configs that parse but describe an impossible pipeline.
    void planErrors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        QTest::newRow("interleaved rounds")
            << R"({"pipeline": {"schedule": "interleaved", "chunks": 2, "stages": 4, "microbatches": 9}})"
            << "\"pipeline.microbatches\": interleaved runs max(1, m/p) = 2 rounds of equal size";
        QTest::newRow("zb-v one chunk") << R"({"pipeline": {"schedule": "zb-v", "chunks": 1}})"
                                        << "\"pipeline.chunks\": zb-v places exactly two chunks per rank in a V";
        QTest::newRow("dualpipev few microbatches")
            << R"({"pipeline": {"schedule": "dualpipev", "stages": 4, "microbatches": 6}})"
            << "\"pipeline.microbatches\": dualpipev needs at least 2*stages = 8 microbatches";
        QTest::newRow("more chunks than layers")
            << R"({"model": {"layers": 2}, "pipeline": {"stages": 8}})"
            << "\"pipeline.stages\": stages*chunks = 8 chunks but the model has only 4 layers";
        QTest::newRow("wrong boundary count")
            << R"({"pipeline": {"stages": 4, "boundaries": [2, 4]}})"
            << "\"pipeline.boundaries\": partition has 3 chunks, the pipeline needs stages*chunks = 4";
        QTest::newRow("empty stage") << R"({"pipeline": {"stages": 4, "boundaries": [2, 2, 6]}})"
                                     << "\"pipeline.boundaries\": chunk 1 is empty";
        QTest::newRow("boundary past the end") << R"({"pipeline": {"stages": 2, "boundaries": [40]}})"
                                               << "\"pipeline.boundaries\": chunk 1 is empty";
    }
    void planErrors() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        try {
            make_plan(parse_run_config(json.toStdString()));
            QFAIL("impossible pipeline accepted");
        } catch (const ConfigError& e) {
            QVERIFY2(QString(e.what()).startsWith(message), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
