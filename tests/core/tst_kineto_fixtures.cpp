// The committed torch.profiler traces (tests/kineto/fixtures, made by make_traces.py with
// PyTorch's pipelining schedules) import: the order read back is the order PyTorch ran,
// the step time and bubble are what a plain reading of the file gives, and broken or
// incomplete inputs are refused with a message that says why.
#include <QtTest>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/kineto_import.h"
#include "core/schedule_gen.h"
#include "core/schedule_match.h"
#include "core/stats.h"
#include "core/validate.h"
#include "test_util.h"

using namespace pipelab;
using nlohmann::json;

namespace {

const std::string kDir = PIPELAB_KINETO_FIXTURES;

json manifest() {
    std::ifstream in(kDir + "/manifest.json");
    return json::parse(in);
}

json fixture(const std::string& name) {
    const json all = manifest();
    for (const auto& f : all["fixtures"])
        if (f["name"] == name) return f;
    throw std::runtime_error("no fixture " + name);
}

std::vector<std::string> files_of(const json& f) {
    std::vector<std::string> out;
    for (const auto& n : f["files"]) out.push_back(kDir + "/" + n.get<std::string>());
    return out;
}

json load(const std::string& path) {
    InputFile in(path);
    return json::parse(in);
}

std::string slurp(const std::string& path) {
    InputFile in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The generator PipeLab has for this order, if any ("" when none): what the importer
// must recognise. Asked here from the generators, so new ones are expected automatically.
std::string expected_kind(const json& f) {
    Schedule want;
    want.n_ranks = f["ranks"];
    want.n_microbatches = f["microbatches"];
    const int p = want.n_ranks, v = f["stages_per_rank"];
    for (int c = 0; c < p * v; ++c) want.chunk_rank.push_back(c % p);
    for (const auto& row : f["order"]) {
        std::string text;
        for (const auto& a : row) text += a.get<std::string>() + " ";
        want.ranks.push_back(test::actions(text));
    }
    const auto k = recognise_schedule(want);
    return k ? std::string(to_string(*k)) : std::string();
}

// The step read straight from the DOM by the importer's documented rules: a compute
// range starts when the wait for its input ends, if that is inside it, and ends where it
// posts its output, if that is inside it; a send is drawn while posted, a receive from
// posting to the end of its wait. Works for the PP:<action> and Forward/Backward marks.
struct Hand {
    double first = INFINITY, last = -INFINITY, busy = 0;
};

// base_ns: the earliest file's base time; this file's times are moved onto it.
Hand hand_step(const json& doc, const std::string& step, long long base_ns) {
    const double base_us = static_cast<double>(doc["baseTimeNanoseconds"].get<long long>() - base_ns) / 1000.0;
    std::vector<json> ev;
    double s0 = 0, s1 = 0;
    for (const auto& e : doc["traceEvents"])
        if (e.value("ph", "") == "X") {
            ev.push_back(e);
            if (e["name"] == step) s0 = e["ts"], s1 = s0 + e["dur"].get<double>();
        }
    std::erase_if(ev, [&](const json& e) { return e["ts"].get<double>() < s0 || e["ts"].get<double>() >= s1; });
    const auto inside = [](const json& e, const json& outer) {
        const double t = e["ts"];
        return t >= outer["ts"].get<double>() && t < outer["ts"].get<double>() + outer["dur"].get<double>();
    };
    const auto end = [](const json& e) { return e["ts"].get<double>() + e["dur"].get<double>(); };
    // Receives: post operator plus the gloo range starting in it; sends: the post operator.
    struct Post {
        json op;
        double done;
    };
    std::vector<Post> recvs, sends;
    for (const auto& e : ev) {
        if (e["name"] == "c10d::recv_") {
            double done = end(e);
            for (const auto& g : ev)
                if (g["name"] == "gloo:recv" && inside(g, e)) done = std::max(done, end(g));
            recvs.push_back({e, done});
        }
        if (e["name"] == "c10d::send") sends.push_back({e, end(e)});
    }
    Hand h;
    for (const auto& e : ev) {
        const std::string name = e["name"];
        double a = e["ts"], b = end(e);
        std::string own_recv, own_send;  // PP names of the transfers feeding / fed by it
        bool compute = false;
        if (name.rfind("PP:", 0) == 0) {
            const auto act = parse_action(name.substr(3));
            if (!act || !is_compute(act->kind)) continue;
            compute = true;
            const bool fwd = act->kind == ActionKind::F;
            own_recv =
                "PP:" + std::to_string(act->chunk) + (fwd ? "RECV_F" : "RECV_B") + std::to_string(act->microbatch);
            own_send =
                "PP:" + std::to_string(act->chunk) + (fwd ? "SEND_F" : "SEND_B") + std::to_string(act->microbatch);
        } else if (name.rfind("Forward ", 0) == 0 || name.rfind("Backward ", 0) == 0) {
            compute = true;
        }
        if (!compute) continue;
        for (const auto& r : recvs) {
            bool mine = inside(r.op, e);
            for (const auto& x : ev)
                if (x["name"] == own_recv && inside(r.op, x)) mine = true;
            if (mine && r.done > a && r.done < b) a = r.done;
        }
        for (const auto& s : sends) {
            bool mine = inside(s.op, e);
            for (const auto& x : ev)
                if (x["name"] == own_send && inside(s.op, x)) mine = true;
            if (mine && s.op["ts"].get<double>() > a && s.op["ts"].get<double>() < b) b = s.op["ts"];
        }
        h.busy += b - a;
        h.first = std::min(h.first, a + base_us);
        h.last = std::max(h.last, b + base_us);
    }
    for (const auto& r : recvs) {
        h.first = std::min(h.first, r.op["ts"].get<double>() + base_us);
        h.last = std::max(h.last, r.done + base_us);
    }
    for (const auto& s : sends) {
        h.first = std::min(h.first, s.op["ts"].get<double>() + base_us);
        h.last = std::max(h.last, s.done + base_us);
    }
    return h;
}

}  // namespace

class TestKinetoFixtures : public QObject {
    Q_OBJECT
private slots:
    void everyFixtureImports_data() {
        QTest::addColumn<QString>("name");
        const json all = manifest();
        for (const auto& f : all["fixtures"]) {
            const std::string n = f["name"];
            QTest::newRow(n.c_str()) << QString::fromStdString(n);
        }
        QVERIFY(all["fixtures"].size() >= 4);
    }
    // Every committed trace imports, and each rank's order is what PyTorch ran.
    void everyFixtureImports() {
        QFETCH(QString, name);
        const json f = fixture(name.toStdString());
        const ImportResult r = import_trace_files(files_of(f));
        const int p = f["ranks"], m = f["microbatches"], v = f["stages_per_rank"];
        QCOMPARE(r.timeline.meta.stages, p);
        QCOMPARE(r.timeline.meta.microbatches, m);
        QCOMPARE(r.timeline.meta.chunks, v);
        QCOMPARE(r.timeline.meta.backend, std::string("pytorch"));
        QCOMPARE(r.timeline.meta.devices, std::vector<std::string>(p, "cpu/gloo"));
        QCOMPARE(r.step, 2LL);  // the last step every rank completed
        QCOMPARE(r.steps, (std::vector<long long>{1, 2}));
        QCOMPARE(r.clock_shift_us, std::vector<double>(p, 0.0));  // one host, one clock
        for (int rank = 0; rank < p; ++rank) {
            std::string want;
            for (const auto& a : f["order"][rank]) want += (want.empty() ? "" : " ") + a.get<std::string>();
            QCOMPARE(test::compute_text(r.order.ranks[rank]), want);
        }
        QVERIFY(!validate_schedule(r.order));
        QCOMPARE(r.recognised_schedule, expected_kind(f));
        QCOMPARE(r.timeline.meta.schedule,
                 r.recognised_schedule.empty() ? std::string("custom") : r.recognised_schedule);
        QCOMPARE(r.inferred, f["schedule_class"] == "Schedule1F1B");
        // Every compute action and every transfer of the step is on the timeline.
        std::size_t compute = 0, comm = 0;
        for (const auto& e : r.timeline.events) {
            QVERIFY(e.start_us >= 0 && e.end_us >= e.start_us);
            (is_compute(e.kind) ? compute : comm)++;
        }
        QCOMPARE(compute, r.order.action_count() - comm);
        QCOMPARE(r.timeline.memory.empty(), !f["profile_memory"].get<bool>());
    }

    // Step time and bubble equal a hand computation over the file (the marked schedules).
    void stepTimeAndBubbleByHand_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("gpipe") << "gpipe";
        QTest::newRow("interleaved") << "interleaved";
        QTest::newRow("zb") << "zb";
    }
    void stepTimeAndBubbleByHand() {
        QFETCH(QString, name);
        const json f = fixture(name.toStdString());
        const auto files = files_of(f);
        const ImportResult r = import_trace_files(files);
        double first = INFINITY, last = -INFINITY;
        std::vector<double> busy;
        std::vector<json> docs;
        long long base = LLONG_MAX;
        for (const auto& path : files) {
            docs.push_back(load(path));
            base = std::min(base, docs.back()["baseTimeNanoseconds"].get<long long>());
        }
        for (std::size_t i = 0; i < files.size(); ++i) {
            const Hand h = hand_step(docs[i], "ProfilerStep#2", base);
            first = std::min(first, h.first);
            last = std::max(last, h.last);
            busy.push_back(h.busy);
        }
        const double step = last - first;
        double idle = 0;
        for (double b : busy) idle += step - b;
        const Stats st = compute_stats(r.timeline);
        qInfo("%s: step %.3f us (hand %.3f), bubble %.4f (hand %.4f)", qPrintable(name), st.step_time_us, step,
              st.bubble_fraction, idle / (busy.size() * step));
        QVERIFY(std::abs(st.step_time_us - step) < 1e-3);
        QVERIFY(std::abs(st.bubble_fraction - idle / (busy.size() * step)) < 1e-6);
        for (std::size_t i = 0; i < busy.size(); ++i) QVERIFY(std::abs(st.ranks[i].busy_us - busy[i]) < 1e-3);
    }

    // The inferred 1F1B order: runs inside the step, forwards and backwards alternate as
    // 1F1B does, memory comes from the allocator events of that step.
    void inferredOneFOneB() {
        const ImportResult r = import_trace_files(files_of(fixture("1f1b")));
        QVERIFY(r.inferred);
        QVERIFY(std::any_of(r.notes.begin(), r.notes.end(),
                            [](auto& n) { return n.find("order inferred") != std::string::npos; }));
        for (const auto& s : r.timeline.memory)
            QVERIFY(s.time_us >= -1e3 && s.time_us <= r.timeline.step_time_us() + 1e4);
        QVERIFY(r.timeline.memory.size() > 100);
    }

    void chosenStepAndBadStep() {
        ImportOptions opt;
        opt.step = 1;
        QCOMPARE(import_trace_files(files_of(fixture("zb")), opt).step, 1LL);
        opt.step = 7;
        try {
            import_trace_files(files_of(fixture("zb")), opt);
            QFAIL("step 7 accepted");
        } catch (const ImportError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("step 7") != std::string::npos && what.find("has steps 1, 2") != std::string::npos,
                     e.what());
        }
    }

    // The "zb" fixture ran PyTorch's ScheduleInterleavedZeroBubble: PipeLab now has that
    // order, so the import names it.
    void interleavedZeroBubbleIsRecognised() {
        const ImportResult r = import_trace_files(files_of(fixture("zb")));
        QCOMPARE(r.recognised_schedule, std::string("interleaved-zb"));
        QCOMPARE(r.timeline.meta.schedule, std::string("interleaved-zb"));
    }

    void folderImportsEveryRank() {
        QTemporaryDir tmp;
        for (const auto& path : files_of(fixture("interleaved")))
            QVERIFY(QFile::copy(QString::fromStdString(path),
                                tmp.filePath(QFileInfo(QString::fromStdString(path)).fileName())));
        QFile(tmp.filePath("notes.txt")).open(QIODevice::WriteOnly);  // not a trace: ignored
        const ImportResult r = import_trace_files({tmp.path().toStdString()});
        QCOMPARE(r.files.size(), std::size_t(2));
        QCOMPARE(r.recognised_schedule, std::string("interleaved"));
    }

    // Broken inputs: a clear message naming what is wrong, never a crash or a hang.
    void badInputsAreRefused_data() {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("needle");
        QTest::newRow("missing rank") << "missing"
                                      << "no file for rank 1";
        QTest::newRow("same rank twice") << "twice"
                                         << "appears twice";
        QTest::newRow("truncated json") << "truncated"
                                        << "truncated JSON";
        QTest::newRow("truncated gzip") << "truncated-gz"
                                        << "truncated";
        QTest::newRow("ranks of two runs") << "mixed"
                                           << "from one run";
        QTest::newRow("no such file") << "nofile"
                                      << "no such file";
    }
    void badInputsAreRefused() {
        QFETCH(QString, what);
        QFETCH(QString, needle);
        QTemporaryDir tmp;
        const auto zb = files_of(fixture("zb"));
        std::vector<std::string> files;
        if (what == "missing") files = {zb[0]};
        if (what == "twice") files = {zb[0], zb[0]};
        if (what == "mixed") files = {zb[0], files_of(fixture("gpipe"))[1]};
        if (what == "nofile") files = {zb[0], kDir + "/nothing_here.json"};
        if (what == "truncated") {
            const std::string text = slurp(zb[1]);
            const std::string path = tmp.filePath("cut.json").toStdString();
            std::ofstream(path) << text.substr(0, text.size() / 2);
            files = {zb[0], path};
        }
        if (what == "truncated-gz") {
            std::ifstream in(zb[1], std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), {});
            const std::string path = tmp.filePath("cut.json.gz").toStdString();
            std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
            files = {zb[0], path};
        }
        try {
            import_trace_files(files);
            QFAIL("accepted");
        } catch (const ImportError& e) {
            qInfo("%s", e.what());
            QVERIFY2(std::string(e.what()).find(needle.toStdString()) != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestKinetoFixtures)
#include "tst_kineto_fixtures.moc"
