// The trace importer on small hand-made traces: each test states exactly what a rank's
// file held, and checks the rules (compute trimmed to its transfers, steps, clock
// alignment, mapping files, GPU kernels, overlapped actions, inference) and the messages
// for bad input.
#include <atomic>
#include <QtTest>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/clock_align.h"
#include "core/kineto_import.h"
#include "core/kineto_infer.h"
#include "core/run_config.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "core/trace_io.h"
#include "core/validate.h"
#include "kineto_test_util.h"
#include "test_util.h"

using namespace pipelab;
using namespace pipelab::test;
using nlohmann::json;

namespace {

constexpr long long kBase = 1'790'000'000'000'000'000LL;

ImportResult import_docs(const std::vector<json>& docs, const ImportOptions& opt = {}) {
    std::vector<KinetoTrace> traces;
    for (std::size_t i = 0; i < docs.size(); ++i)
        traces.push_back(read_doc(docs[i], "rank" + std::to_string(i) + ".json"));
    return import_kineto(traces, opt);
}

// The message of the ImportError `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const ImportError& e) {
        return e.what();
    }
    return "";
}

const TimelineEvent* find(const Timeline& tl, int rank, const std::string& action) {
    const Action a = *parse_action(action);
    for (const auto& e : tl.events)
        if (e.rank == rank && e.kind == a.kind && e.chunk == a.chunk && e.microbatch == a.microbatch) return &e;
    return nullptr;
}

bool near(double a, double b) { return std::abs(a - b) < 1e-6; }

#define QVERIFY_HAS(text, needle) \
    QVERIFY2(std::string(text).find(needle) != std::string::npos, qPrintable(QString::fromStdString(text)))

}  // namespace

class TestKinetoImport : public QObject {
    Q_OBJECT
private slots:
    void computeTrimmedToTransfers() {
        const ImportResult r = import_docs({rank_doc(0, 2, kBase, pp_rank0()), rank_doc(1, 2, kBase, pp_rank1())});
        const Timeline& tl = r.timeline;
        const std::vector<std::tuple<int, std::string, double, double>> want = {
            {0, "0F0", 0, 10},  {0, "0SEND_F0", 10.5, 11.5}, {0, "0RECV_B0", 12.2, 40},
            {0, "0B0", 40, 60}, {1, "1RECV_F0", 0.2, 12},    {1, "1F0", 12, 22},
            {1, "1B0", 22, 38}, {1, "1SEND_B0", 38.2, 38.8}};
        for (const auto& [rank, act, a, b] : want) {
            const TimelineEvent* e = find(tl, rank, act);
            QVERIFY2(e != nullptr, act.c_str());
            QVERIFY2(near(e->start_us, a) && near(e->end_us, b),
                     qPrintable(QString("%1: %2..%3").arg(act.c_str()).arg(e->start_us).arg(e->end_us)));
        }
        QCOMPARE(tl.events.size(), want.size());  // PP:0UNSHARD is bookkeeping: skipped
        const Stats st = compute_stats(tl);
        QVERIFY(near(st.step_time_us, 60));
        QVERIFY(near(st.ranks[0].busy_us, 30) && near(st.ranks[1].busy_us, 26));
        QVERIFY(near(st.bubble_fraction, (30 + 34) / 120.0));
        QCOMPARE(r.recognised_schedule, std::string("gpipe"));  // p=2, m=1: gpipe's order comes first
        QCOMPARE(r.clock_shift_us, (std::vector<double>{0, 0}));
        QCOMPARE(tl.meta.devices, (std::vector<std::string>{"cpu/gloo", "cpu/gloo"}));
        // The order saved as a schedule file loads back, equal and valid.
        const Schedule back = schedule_from_json(schedule_to_json(r.order));
        QCOMPARE(back.ranks, r.order.ranks);
        QVERIFY(!validate_schedule(back));
    }

    // Rank 1's clock runs 50 µs ahead: rank 0's receive of 1SEND_B0 would end before the
    // send began. Rank 0 moves later by exactly the violation, rank 1 stays.
    void skewedClocksAreAligned() {
        const ImportResult r =
            import_docs({rank_doc(0, 2, kBase, pp_rank0()), rank_doc(1, 2, kBase + 50'000, pp_rank1())});
        QVERIFY2(near(r.clock_shift_us[0], 38.2 + 50 - 40) && r.clock_shift_us[1] == 0,
                 qPrintable(QString("%1 %2").arg(r.clock_shift_us[0]).arg(r.clock_shift_us[1])));
        QVERIFY(std::any_of(r.notes.begin(), r.notes.end(),
                            [](auto& n) { return n.find("rank 0 +48.2 µs") != std::string::npos; }));
        const Timeline& tl = r.timeline;
        QVERIFY(find(tl, 0, "0RECV_B0")->end_us >= find(tl, 1, "1SEND_B0")->start_us - 1e-6);
        QVERIFY(find(tl, 1, "1RECV_F0")->end_us >= find(tl, 0, "0SEND_F0")->start_us - 1e-6);
    }

    void contradictoryClocksAreLeftAlone() {
        // Each rank's receive ends 5 µs before the other's send starts: no shift fixes both.
        const ClockAlignment a = align_clocks(2, {{0, 10, 1, 5}, {1, 10, 0, 5}});
        QVERIFY(!a.problem.empty());
        QCOMPARE(a.shift_us, (std::vector<double>{0, 0}));
        const ClockAlignment ok = align_clocks(3, {{0, 10, 1, 5}, {1, 20, 2, 30}});
        QVERIFY(ok.problem.empty());
        QCOMPARE(ok.shift_us, (std::vector<double>{0, 5, 0}));
    }

    // Without step marks, a step begins where the rank's first action begins again.
    void stepsWhereTheActionsRepeat() {
        std::vector<Ev> r0 = pp_rank0(0, "data"), r1 = pp_rank1(0, "data");
        for (const Ev& e : pp_rank0(1000, "data")) r0.push_back(e);
        for (const Ev& e : pp_rank1(1000, "data")) r1.push_back(e);
        const ImportResult r = import_docs({rank_doc(0, 2, kBase, r0), rank_doc(1, 2, kBase, r1)});
        QCOMPARE(r.steps, (std::vector<long long>{0, 1}));
        QCOMPARE(r.step, 1LL);
        QVERIFY(near(r.timeline.step_time_us(), 60));
        QVERIFY_HAS(r.notes[0], "first action repeats");
    }

    void mismatchedSteps() {
        const std::string e = error_of([] {
            import_docs({rank_doc(0, 2, kBase, pp_rank0()), rank_doc(1, 2, kBase, pp_rank1(0, "ProfilerStep#5"))});
        });
        QVERIFY_HAS(e, "no step is common to all ranks");
        QVERIFY_HAS(e, "rank 1 (rank1.json) has steps 5");
    }

    // A step whose actions are incomplete on one rank is skipped for the previous one.
    void incompleteLastStepFallsBack() {
        std::vector<Ev> r0 = pp_rank0(), r1 = pp_rank1();
        for (Ev e : pp_rank0(1000, "ProfilerStep#2")) r0.push_back(e);
        for (Ev e : pp_rank1(1000, "ProfilerStep#2"))
            if (e.name != "PP:1B0") r1.push_back(e);  // the profile stopped mid-step
        const ImportResult r = import_docs({rank_doc(0, 2, kBase, r0), rank_doc(1, 2, kBase, r1)});
        QCOMPARE(r.step, 1LL);
        QVERIFY_HAS(r.notes[0], "step 2 skipped");
        ImportOptions opt;
        opt.step = 2;
        QVERIFY_HAS(error_of([&] {
                        import_docs({rank_doc(0, 2, kBase, r0), rank_doc(1, 2, kBase, r1)}, opt);
                    }),
                    "not a valid schedule");
    }

    void badTimesAndBadJson_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("needle");
        const auto ev = [](const char* fields) {
            return QString(R"({"traceEvents":[{"ph":"X","cat":"user_annotation","name":"PP:0F0",%1}]})").arg(fields);
        };
        QTest::newRow("overflowing ts") << ev(R"("ts":1e999,"dur":1)") << "times must be finite";
        QTest::newRow("huge ts") << ev(R"("ts":1e300,"dur":1)") << "\"ts\" must be a finite number";
        QTest::newRow("negative dur") << ev(R"("ts":1,"dur":-5)") << "\"dur\" must be a finite number";
        QTest::newRow("missing ts") << ev(R"("dur":1)") << "missing \"ts\"";
        QTest::newRow("NaN literal") << ev(R"("ts":NaN,"dur":1)") << "not valid JSON at byte";
        QTest::newRow("truncated") << R"({"traceEvents":[{"ph":"X","ts":1)"
                                   << "truncated JSON";
        QTest::newRow("empty") << ""
                               << "truncated JSON";
        QTest::newRow("bad rank") << R"({"distributedInfo":{"rank":-3},"traceEvents":[]})"
                                  << "distributedInfo.rank";
    }
    void badTimesAndBadJson() {
        QFETCH(QString, text);
        QFETCH(QString, needle);
        QVERIFY_HAS(error_of([&] { read_text(text.toStdString()); }), needle.toStdString());
    }

    // Anything that is not a pipeline trace is refused with a message, never a crash.
    void garbageIsRefused_data() {
        QTest::addColumn<QString>("text");
        for (const char* t : {"{}", "[]", "null", "5", "[1,2,3]", R"({"traceEvents":5})", R"({"traceEvents":[[],{}]})",
                              R"({"traceEvents":[{"ph":"X","cat":"cpu_op","name":"aten::mm","ts":1,"dur":2}]})",
                              R"([{"ph":"X","name":"my_forward","ts":1,"dur":2}])"})
            QTest::newRow(t) << t;
    }
    void garbageIsRefused() {
        QFETCH(QString, text);
        const std::string e = error_of([&] { import_kineto({read_text(text.toStdString())}); });
        QVERIFY_HAS(e, "holds no pipeline actions");
        QVERIFY_HAS(e, "mapping file");
    }

    void cancelStopsTheRead() {
        std::string text = R"({"traceEvents":[)";
        for (int i = 0; i < 20000; ++i)
            text += std::string(i ? "," : "") + R"({"ph":"X","cat":"cpu_op","name":"aten::mm","pid":1,"tid":1,"ts":)" +
                    std::to_string(i) + R"(,"dur":1})";
        text += "]}";
        std::atomic<bool> cancel{false};
        std::istringstream whole(text);
        QCOMPARE(read_kineto_trace(whole, "big.json", &cancel).events.size(), std::size_t(20000));
        cancel = true;
        std::istringstream again(text);
        QVERIFY_THROWS_EXCEPTION(ImportCancelled, read_kineto_trace(again, "big.json", &cancel));
    }

    void unknownActionsAreSkippedWithANote() {
        std::vector<Ev> r0 = pp_rank0();
        r0.push_back(ann("PP:0FROB1", 5, 1));
        const ImportResult r = import_docs({rank_doc(0, 2, kBase, r0), rank_doc(1, 2, kBase, pp_rank1())});
        QVERIFY(std::any_of(r.notes.begin(), r.notes.end(),
                            [](auto& n) { return n.find("skipped 1 \"PP:0FROB1\"") != std::string::npos; }));
    }

    // Another framework's names, read through a mapping file.
    void mappingFile() {
        const json mapping = json::parse(R"({"framework": "megatron",
            "actions": [{"pattern": "^(?<kind>fwd|bwd) s(?<stage>\\d+) m(?<microbatch>\\d+)$",
                         "kinds": {"fwd": "F", "bwd": "B"}}],
            "step": "^iteration (?<step>\\d+)$", "send": "^send-", "recv": "^recv-"})");
        const EventMapping m = EventMapping::from_json(mapping, "megatron.json");
        ImportOptions opt;
        opt.mapping = &m;
        const ImportResult r =
            import_docs({rank_doc(0, 2, kBase,
                                  {ann("iteration 7", 0, 100), ann("fwd s0 m0", 0, 10), ann("send-activation", 10, 2),
                                   ann("recv-grad", 12, 20), ann("bwd s0 m0", 32, 10)}),
                         rank_doc(1, 2, kBase,
                                  {ann("iteration 7", 0, 100), ann("recv-activation", 0, 12), ann("fwd s1 m0", 12, 8),
                                   ann("bwd s1 m0", 20, 9), ann("send-grad", 29, 1)})},
                        opt);
        QCOMPARE(r.step, 7LL);
        QCOMPARE(r.timeline.meta.backend, std::string("megatron"));
        QCOMPARE(test::text(r.order.ranks[0]), std::string("0F0 0SEND_F0 0RECV_B0 0B0"));
        QCOMPARE(test::text(r.order.ranks[1]), std::string("1RECV_F0 1F0 1B0 1SEND_B0"));
        QVERIFY(near(find(r.timeline, 0, "0RECV_B0")->end_us, 32));
        QVERIFY(near(find(r.timeline, 1, "1SEND_B0")->start_us, 29));
    }

    void badMappings_data() {
        QTest::addColumn<QString>("doc");
        QTest::addColumn<QString>("needle");
        // Plain strings: moc does not read raw strings with delimiters.
        QTest::newRow("bad regex") << "{\"actions\":[{\"pattern\":\"(fwd\",\"kind\":\"F\"}]}"
                                   << "actions[0].pattern: not a valid regular expression";
        QTest::newRow("no microbatch") << "{\"actions\":[{\"pattern\":\"fwd\",\"kind\":\"F\"}]}"
                                       << "(?<microbatch>";
        QTest::newRow("no kind") << "{\"actions\":[{\"pattern\":\"fwd (?<microbatch>\\\\d+)\"}]}"
                                 << "needs \"kind\"";
        QTest::newRow("bad kind") << "{\"actions\":[{\"pattern\":\"f(?<microbatch>\\\\d+)\",\"kind\":\"X\"}]}"
                                  << "must be an action kind";
        QTest::newRow("unknown key") << "{\"actoins\":[]}"
                                     << "unknown key \"actoins\"";
        QTest::newRow("not an object") << "[1]"
                                       << "JSON object";
        QTest::newRow("name twice") << "{\"step\":\"(?<a>x)(?<a>y)\"}"
                                    << "named twice";
    }
    void badMappings() {
        QFETCH(QString, doc);
        QFETCH(QString, needle);
        QVERIFY_HAS(error_of([&] { EventMapping::from_json(json::parse(doc.toStdString()), "map.json"); }),
                    needle.toStdString());
    }

    // With kernels, an action's time is the device time of what it launched.
    void gpuKernelsGiveDeviceTime() {
        const auto launch = [](double ts, int corr) {
            Ev e{"cudaLaunchKernel", ts, 1, "cuda_runtime", json{{"correlation", corr}}};
            return e;
        };
        const auto kernel = [](double ts, double dur, int corr, const char* cat = "kernel") {
            Ev e{"gemm", ts, dur, cat, json{{"correlation", corr}}, 7};
            return e;
        };
        json doc = rank_doc(
            0, 1, kBase,
            {ann("ProfilerStep#3", 0, 100), ann("PP:0F0", 0, 10), launch(2, 7), ann("PP:0B0", 12, 20), launch(15, 8),
             launch(20, 9), kernel(5, 4, 7), kernel(25, 20, 8), kernel(46, 4, 9, "gpu_memcpy"), kernel(60, 5, 99)});
        doc["deviceProperties"] = json::array({{{"id", 0}, {"name", "NVIDIA H200"}}});
        const ImportResult r = import_docs({doc});
        QVERIFY(near(find(r.timeline, 0, "0F0")->start_us, 0) && near(find(r.timeline, 0, "0F0")->end_us, 4));
        QVERIFY(near(find(r.timeline, 0, "0B0")->start_us, 20) && near(find(r.timeline, 0, "0B0")->end_us, 45));
        QCOMPARE(r.timeline.meta.devices, std::vector<std::string>{"NVIDIA H200/gloo"});
        QVERIFY(std::any_of(r.notes.begin(), r.notes.end(),
                            [](auto& n) { return n.find("GPU time") != std::string::npos; }));
    }

    // DualPipeV runs two actions in one range; the autograd engine's first function is
    // where the forward ends and the backward begins.
    void overlappedPairSplitsAtTheAutogradSeam() {
        const ImportResult r = import_docs(
            {rank_doc(0, 1, kBase,
                      {ann("ProfilerStep#0", 0, 100), ann("PP:0F0", 0, 10), ann("PP:(0F1;0B0)OVERLAP_F_B", 10, 30),
                       op("aten::linear", 11, 9), op("autograd::engine::evaluate_function: AddmmBackward0", 22, 16),
                       ann("PP:0B1", 40, 20)})});
        QCOMPARE(test::text(r.order.ranks[0]), std::string("0F0 0F1 0B0 0B1"));
        QVERIFY(near(find(r.timeline, 0, "0F1")->end_us, 22) && near(find(r.timeline, 0, "0B0")->start_us, 22));
        QVERIFY(near(find(r.timeline, 0, "0B0")->end_us, 40));
    }

    // Allocator events: the device's when it reports, inside the step only.
    void memoryFromAllocatorEvents() {
        json doc = rank_doc(0, 1, kBase, {ann("ProfilerStep#1", 0, 100), ann("PP:0F0", 0, 10), ann("PP:0B0", 10, 10)});
        const auto mem = [](double ts, long long total, int dev) {
            return json{{"ph", "i"},
                        {"name", "[memory]"},
                        {"cat", "cpu_instant_event"},
                        {"ts", ts},
                        {"pid", 100},
                        {"tid", 1},
                        {"args", {{"Total Allocated", total}, {"Device Type", dev}, {"Bytes", 1}}}};
        };
        for (const json& m : {mem(5, 100, 0), mem(6, 4096, 1), mem(12, 8192, 1), mem(500, 99, 1)})
            doc["traceEvents"].push_back(m);
        const ImportResult r = import_docs({doc});
        QCOMPARE(r.timeline.memory.size(), std::size_t(2));
        QCOMPARE(r.timeline.memory[1].activations, std::int64_t(8192));
        QVERIFY(near(r.timeline.memory[1].time_us, 12));
    }

    // PipeLab's own traces open as before; mixed with a rank file, they are refused.
    void pipelabTracesStillImport() {
        RunConfig cfg;
        const Plan plan = make_plan(cfg);
        const Timeline sim = simulate(plan.schedule, plan.partition, plan.cost);
        QTemporaryDir tmp;
        const std::string path = tmp.filePath("sim.json.gz").toStdString();
        write_chrome_trace(sim, path);
        const ImportResult r = import_trace_files({path});
        QCOMPARE(r.timeline.events.size(), sim.events.size());
        QCOMPARE(r.timeline.meta.schedule, sim.meta.schedule);
        const std::string other = tmp.filePath("rank0.json").toStdString();
        std::ofstream(other) << rank_doc(0, 1, kBase, pp_rank0()).dump();
        QVERIFY_HAS(error_of([&] { import_trace_files({other, path}); }), "open it alone");
    }

    void inferActionsFromOperators() {
        // prep | recv | F | send | B | send ... : the small leading run is not a microbatch,
        // the trailing forward-like run (gradient scaling) neither.
        using C = OpSpan;
        std::vector<std::string> notes;
        const auto acts = infer_actions({{0, 1, C::Forward},
                                         {2, 3, C::Comm},
                                         {4, 20, C::Forward},
                                         {21, 22, C::Comm},
                                         {30, 50, C::Backward},
                                         {51, 52, C::Comm},
                                         {53, 60, C::Forward},
                                         {61, 62, C::Comm},
                                         {70, 90, C::Backward},
                                         {91, 92, C::Forward}},
                                        notes);
        QCOMPARE(acts.size(), std::size_t(4));
        QCOMPARE(to_string(acts[0].action), std::string("0F0"));
        QVERIFY(near(acts[0].start, 4) && near(acts[0].end, 20));
        QCOMPARE(to_string(acts[1].action), std::string("0B0"));
        QCOMPARE(to_string(acts[2].action), std::string("0F1"));
        QCOMPARE(to_string(acts[3].action), std::string("0B1"));
        QCOMPARE(notes.size(), std::size_t(2));
        QVERIFY(infer_actions({{0, 5, C::Backward}}, notes).empty());
    }
};

QTEST_GUILESS_MAIN(TestKinetoImport)
#include "tst_kineto_import.moc"
