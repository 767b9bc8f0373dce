// Chrome trace export (fields Perfetto needs) and import back into a Timeline.
#include <QtTest>

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/run_config.h"
#include "core/simulator.h"
#include "core/trace_io.h"

using namespace pipelab;
using nlohmann::json;

namespace {
Timeline sample_timeline(ScheduleKind kind, int chunks) {
    RunConfig cfg;
    cfg.model.layers = 8;
    cfg.pipeline = {kind, 4, 8, chunks, {}, false, {}};
    const Plan plan = make_plan(cfg);
    return simulate(plan.schedule, plan.partition, plan.cost);
}
bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }
}  // namespace

class TestTrace : public QObject {
    Q_OBJECT
private slots:
    void roundTripPreservesEverything_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("chunks");
        QTest::newRow("1f1b") << int(ScheduleKind::OneFOneB) << 1;
        QTest::newRow("gpipe") << int(ScheduleKind::GPipe) << 1;
        QTest::newRow("interleaved") << int(ScheduleKind::Interleaved) << 2;
    }
    void roundTripPreservesEverything() {
        QFETCH(int, kind);
        QFETCH(int, chunks);
        Timeline tl = sample_timeline(ScheduleKind(kind), chunks);
        for (auto& m : tl.memory) m.workspace = 4096 + m.rank;  // real backends fill this one
        for (auto& m : tl.memory) m.messages = 512 * m.rank;
        tl.meta.notes = {"clocks agree", "order inferred from \"operators\""};  // imports fill these
        const Timeline back = timeline_from_chrome_trace(json::parse(timeline_to_chrome_trace(tl).dump()));
        QCOMPARE(back.meta, tl.meta);
        QCOMPARE(back.events.size(), tl.events.size());
        for (std::size_t i = 0; i < tl.events.size(); ++i) {
            const auto &a = tl.events[i], &b = back.events[i];
            QVERIFY2(a.rank == b.rank && a.kind == b.kind && a.chunk == b.chunk && a.microbatch == b.microbatch,
                     qPrintable(QString("event %1 differs").arg(i)));
            QVERIFY(close(a.start_us, b.start_us));
            QVERIFY(close(a.end_us, b.end_us));
        }
        QCOMPARE(back.memory.size(), tl.memory.size());
        for (std::size_t i = 0; i < tl.memory.size(); ++i) {
            QCOMPARE(back.memory[i].rank, tl.memory[i].rank);
            QVERIFY(close(back.memory[i].time_us, tl.memory[i].time_us));
            QCOMPARE(back.memory[i].activations, tl.memory[i].activations);
            QCOMPARE(back.memory[i].workspace, tl.memory[i].workspace);
            QCOMPARE(back.memory[i].messages, tl.memory[i].messages);
            QCOMPARE(back.memory[i].total(), tl.memory[i].total());
        }
    }

    void exportHasThePerfettoFields() {
        const Timeline tl = sample_timeline(ScheduleKind::OneFOneB, 1);
        const json tr = timeline_to_chrome_trace(tl);
        QVERIFY(tr.at("traceEvents").is_array());
        std::map<std::string, int> phases;
        std::map<int, std::string> names;
        std::map<long long, int> flows;  // id -> s/f count
        for (const json& e : tr.at("traceEvents")) {
            const std::string ph = e.at("ph");
            ++phases[ph];
            if (ph == "M" && e.at("name") == "process_name") names[e.at("pid")] = e.at("args").at("name");
            if (ph == "X") {
                QVERIFY(e.at("ts").is_number());
                QVERIFY(e.at("dur").is_number());
                QVERIFY(e.at("dur").get<double>() >= 0);
                QVERIFY(e.at("args").contains("microbatch"));
                QVERIFY(e.at("args").contains("chunk"));
                QVERIFY(e.at("pid").get<int>() < 4);
            }
            if (ph == "C") {
                QCOMPARE(e.at("name"), "memory");
                for (const char* k : {"params", "grads", "optimizer", "activations"}) QVERIFY(e.at("args").contains(k));
            }
            if (ph == "s" || ph == "f") ++flows[e.at("id").get<long long>()];
        }
        QCOMPARE(std::size_t(phases["X"]), tl.events.size());
        QCOMPARE(std::size_t(phases["C"]), tl.memory.size());
        QCOMPARE(names.size(), std::size_t(4));
        QCOMPARE(names[2], std::string("stage 2 (sim)"));
        // One flow arrow (s + f) per send: 3 boundaries x 8 microbatches x 2 directions.
        QCOMPARE(flows.size(), std::size_t(3 * 8 * 2));
        for (const auto& [id, n] : flows) QCOMPARE(n, 2);
    }

    void importErrorsNameTheEvent_data() {
        QTest::addColumn<QString>("trace");
        QTest::addColumn<QString>("message");
        QTest::newRow("not a trace") << R"({"foo": 1})"
                                     << "expected an object with a \"traceEvents\" array";
        QTest::newRow("no actions") << R"({"traceEvents": []})"
                                    << "no PipeLab action events";
        QTest::newRow("missing ts")
            << R"({"traceEvents": [{"ph": "X", "pid": 0, "dur": 1, "args": {"kind": "F", "chunk": 0, "microbatch": 0}}]})"
            << "trace event #0: missing \"ts\"";
        QTest::newRow("bad kind")
            << R"({"traceEvents": [{"ph": "M"}, {"ph": "X", "pid": 0, "ts": 0, "dur": 1, "args": {"kind": "Z", "chunk": 0, "microbatch": 0}}]})"
            << "trace event #1: args.kind \"Z\" is not an action kind";
        QTest::newRow("negative dur")
            << R"({"traceEvents": [{"ph": "X", "pid": 0, "ts": 0, "dur": -1, "args": {"kind": "F", "chunk": 0, "microbatch": 0}}]})"
            << "trace event #0: \"dur\" must be >= 0";
        QTest::newRow("huge pid")
            << R"({"traceEvents": [{"ph": "X", "pid": 999999, "ts": 0, "dur": 1, "args": {"kind": "F", "chunk": 0, "microbatch": 0}}]})"
            << "trace event #0: \"pid\" 999999 is not a rank";
        QTest::newRow("ph not string") << R"({"traceEvents": [{"ph": 1}]})"
                                       << "trace event #0: \"ph\" must be a string";
        const QString ok_event =
            R"({"ph": "X", "pid": 0, "ts": 0, "dur": 1, "args": {"kind": "F", "chunk": 0, "microbatch": 0}})";
        QTest::newRow("infinite time")
            << R"({"traceEvents": [{"ph": "X", "pid": 0, "ts": 1e308, "dur": 1e308, "args": {"kind": "F", "chunk": 0, "microbatch": 0}}]})"
            << "trace event #0: \"ts\" must be a finite number within +-1e15";
        QTest::newRow("negative bytes")
            << R"({"traceEvents": [)" + ok_event +
                   R"(, {"ph": "C", "name": "memory", "pid": 0, "ts": 0, "args": {"params": -5, "grads": 0, "optimizer": 0, "activations": 0}}]})"
            << "trace event #1: \"args.params\" must be >= 0";
        QTest::newRow("meta stages huge")
            << R"({"traceEvents": [)" + ok_event + R"(], "pipelab": {"meta": {"stages": 2000000000}}})"
            << "pipelab.meta.stages must be an integer in 1..1024";
        QTest::newRow("meta schedule not text")
            << R"({"traceEvents": [)" + ok_event + R"(], "pipelab": {"meta": {"schedule": 3}}})"
            << "pipelab.meta.schedule must be a string";
        QTest::newRow("meta bounds huge")
            << R"({"traceEvents": [)" + ok_event + R"(], "pipelab": {"meta": {"bounds": [0, 4294967296]}}})"
            << "pipelab.meta.bounds must hold integers in 0..1000000";
    }
    void importErrorsNameTheEvent() {
        QFETCH(QString, trace);
        QFETCH(QString, message);
        try {
            timeline_from_chrome_trace(json::parse(trace.toStdString()));
            QFAIL("bad trace accepted");
        } catch (const TraceError& e) {
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }

    void fileHelpersReportPaths() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("run.json").toStdString();
        const Timeline tl = sample_timeline(ScheduleKind::GPipe, 1);
        write_chrome_trace(tl, path);
        QCOMPARE(read_chrome_trace(path).events.size(), tl.events.size());
        QFile bad(dir.filePath("bad.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{ not json");
        bad.close();
        try {
            read_chrome_trace(bad.fileName().toStdString());
            QFAIL("bad file accepted");
        } catch (const TraceError& e) {
            QVERIFY2(QString(e.what()).contains("bad.json: not valid JSON"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(TraceError, read_chrome_trace(dir.filePath("missing.json").toStdString()));
    }

    // A trace many write buffers long: what the gzip writer writes reads back as the plain
    // file's bytes, buffer boundaries included.
    void largeGzipTraceIsThePlainTextByteForByte() {
        QTemporaryDir dir;
        RunConfig cfg;
        cfg.model.layers = 8;
        cfg.pipeline = {ScheduleKind::OneFOneB, 8, 256, 1, {}, false, {}};
        const Plan plan = make_plan(cfg);
        const Timeline tl = simulate(plan.schedule, plan.partition, plan.cost);
        const std::string plain = dir.filePath("big.json").toStdString();
        const std::string gz = dir.filePath("big.json.gz").toStdString();
        write_chrome_trace(tl, plain);
        write_chrome_trace(tl, gz);
        QFile f(QString::fromStdString(plain));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray want = f.readAll();
        QVERIFY2(want.size() > 16 * 65536, qPrintable(QString::number(want.size())));
        InputFile in(gz);
        const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        QVERIFY(in.error().empty());
        QCOMPARE(got.size(), static_cast<std::size_t>(want.size()));
        QVERIFY(got == want.toStdString());
    }

    // ".gz" writes gzip (checked by its magic bytes and a smaller file); reading detects it
    // by content; a truncated gzip stream is an error naming the file, never a crash.
    void gzipTracesRoundTrip() {
        QTemporaryDir dir;
        const Timeline tl = sample_timeline(ScheduleKind::OneFOneB, 1);
        const std::string plain = dir.filePath("run.json").toStdString();
        const std::string gz = dir.filePath("run.json.gz").toStdString();
        write_chrome_trace(tl, plain);
        write_chrome_trace(tl, gz);
        QFile f(QString::fromStdString(gz));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QCOMPARE(static_cast<unsigned char>(bytes[0]), 0x1fu);
        QCOMPARE(static_cast<unsigned char>(bytes[1]), 0x8bu);
        QVERIFY2(bytes.size() * 4 < QFileInfo(QString::fromStdString(plain)).size(),
                 qPrintable(QString("gzip %1 bytes vs plain %2")
                                .arg(bytes.size())
                                .arg(QFileInfo(QString::fromStdString(plain)).size())));
        const Timeline back = read_chrome_trace(gz);
        QCOMPARE(back.events.size(), tl.events.size());
        QCOMPARE(back.meta, tl.meta);
        QVERIFY(!QFile::exists(QString::fromStdString(gz + ".part")));

        QFile cut(dir.filePath("cut.json.gz"));
        QVERIFY(cut.open(QIODevice::WriteOnly));
        cut.write(bytes.left(bytes.size() / 2));
        cut.close();
        try {
            read_chrome_trace(cut.fileName().toStdString());
            QFAIL("truncated gzip accepted");
        } catch (const TraceError& e) {
            QVERIFY2(QString(e.what()).contains("cut.json.gz"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestTrace)
#include "tst_trace.moc"
