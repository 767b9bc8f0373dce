// pipelab-cli end to end: every sample runs and writes valid outputs; bad usage and bad
// input exit 2 with a message naming what is wrong; nothing hangs.
#include <QtTest>

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

struct Result {
    int code = -1;
    QString out, err;
};

static Result run_cli(const QStringList& args) {
    QProcess p;
    p.start(PIPELAB_CLI, args);
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return {-2, {}, "timed out"};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -3, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

static QJsonObject read_json(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void help() {
        const Result r = run_cli({"--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("pipelab-cli simulate"));
    }

    void commandHelp_data() {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("mentions");
        QTest::addColumn<QString>("omits");
        QTest::newRow("run") << "run"
                             << "--backend sim|cpu|cuda"
                             << "pipelab-cli import";
        QTest::newRow("simulate") << "simulate"
                                  << "--stats-json"
                                  << "pipelab-cli run";
        QTest::newRow("validate") << "validate"
                                  << "--schedule-file FILE"
                                  << "overrides";
        QTest::newRow("import") << "import"
                                << "--mapping FILE"
                                << "--boundaries";
        QTest::newRow("check") << "check"
                               << "--fixtures DIR"
                               << "pipelab-cli devices";
    }
    void commandHelp() {
        QFETCH(QString, command);
        QFETCH(QString, mentions);
        QFETCH(QString, omits);
        for (const char* flag : {"--help", "-h"}) {
            const Result r = run_cli({command, flag});
            QCOMPARE(r.code, 0);
            QVERIFY2(r.out.contains("pipelab-cli " + command), qPrintable(r.out));
            QVERIFY2(r.out.contains(mentions), qPrintable(r.out));
            QVERIFY2(!r.out.contains(omits), qPrintable(r.out));
        }
        const Result bad = run_cli({"frobnicate", "--help"});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains("unknown command \"frobnicate\""));
    }

    void unknownFlagIsNamed_data() {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("last") << QStringList{"simulate", "--bogus"};
        QTest::newRow("with value") << QStringList{"simulate", "--bogus", "3"};
        QTest::newRow("inline") << QStringList{"run", "--bogus=3"};
        QTest::newRow("other command's flag") << QStringList{"validate", "--stages", "4"};
    }
    void unknownFlagIsNamed() {
        QFETCH(QStringList, args);
        const Result r = run_cli(args);
        QCOMPARE(r.code, 2);
        const QString flag = args[1].section('=', 0, 0);
        QVERIFY2(r.err.contains("unknown option " + flag), qPrintable(r.err));
    }

    void everySample_data() {
        QTest::addColumn<QString>("path");
        const QDir dir(PIPELAB_SAMPLES);
        const auto files = dir.entryList({"*.json"}, QDir::Files);
        QVERIFY(files.size() >= 3);
        for (const QString& f : files) QTest::newRow(qPrintable(f)) << dir.filePath(f);
    }
    void everySample() {
        QFETCH(QString, path);
        QTemporaryDir tmp;
        const QString trace = tmp.filePath("trace.json"), stats = tmp.filePath("stats.json");
        const Result r = run_cli({"simulate", "--config", path, "--trace", trace, "--stats-json", stats});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("bubble"));
        QVERIFY(r.out.contains("rank 0  |"));  // the ASCII Gantt

        const QJsonObject st = read_json(stats);
        for (const char* k : {"step_time_us", "bubble_fraction", "bubble_formula", "schedule", "stages", "microbatches",
                              "chunks", "ranks"})
            QVERIFY2(st.contains(k), k);
        QVERIFY(st["step_time_us"].toDouble() > 0);
        const QJsonArray ranks = st["ranks"].toArray();
        QCOMPARE(ranks.size(), st["stages"].toInt());
        for (const auto& v : ranks) {
            const QJsonObject rk = v.toObject();
            for (const char* k : {"rank", "busy_us", "idle_us", "bubble_fraction", "peak_inflight_microbatches",
                                  "peak_activation_bytes", "peak_memory_bytes"})
                QVERIFY2(rk.contains(k), k);
            QVERIFY(rk["busy_us"].toDouble() > 0);
        }
        const QJsonObject tr = read_json(trace);
        QVERIFY(tr["traceEvents"].toArray().size() > 0);
    }

    void overridesTakePrecedence() {
        QTemporaryDir tmp;
        const QString stats = tmp.filePath("stats.json");
        const Result r =
            run_cli({"simulate", "--config", QString(PIPELAB_SAMPLES) + "/balanced_1f1b.json", "--schedule", "gpipe",
                     "--stages", "2", "--microbatches=3", "--no-gantt", "--stats-json", stats});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonObject st = read_json(stats);
        QCOMPARE(st["schedule"].toString(), QString("gpipe"));
        QCOMPARE(st["stages"].toInt(), 2);
        QCOMPARE(st["microbatches"].toInt(), 3);
        QCOMPARE(st["ranks"].toArray().size(), 2);
        QCOMPARE(st["ranks"].toArray()[0].toObject()["peak_inflight_microbatches"].toInt(), 3);
    }

    void badInputExits2_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("config");  // written to a file and passed as --config
        QTest::addColumn<QString>("message");
        QTest::newRow("no command") << QStringList{} << ""
                                    << "missing command";
        QTest::newRow("unknown command") << QStringList{"fly"} << ""
                                         << "unknown command \"fly\"";
        QTest::newRow("unknown flag") << QStringList{"simulate", "--speed", "3"} << ""
                                      << "unknown option --speed";
        QTest::newRow("flag without value") << QStringList{"simulate", "--stages"} << ""
                                            << "--stages needs a value";
        QTest::newRow("non-integer flag") << QStringList{"simulate", "--stages", "four"} << ""
                                          << "--stages: expected an integer, got \"four\"";
        QTest::newRow("zero microbatches flag") << QStringList{"simulate", "--microbatches", "0"} << ""
                                                << "\"pipeline.microbatches\": must be >= 1, got 0";
        QTest::newRow("unknown schedule flag") << QStringList{"simulate", "--schedule", "zigzag"} << ""
                                               << "unknown schedule \"zigzag\"";
        QTest::newRow("missing config file") << QStringList{"simulate", "--config", "/nonexistent/x.json"} << ""
                                             << "cannot open config file";
        QTest::newRow("malformed json") << QStringList{"simulate"} << "{\"pipeline\": "
                                        << "not valid JSON";
        QTest::newRow("wrong type") << QStringList{"simulate"} << R"({"model": {"heads": "x"}})"
                                    << "\"model.heads\": must be an integer, got \"x\"";
        QTest::newRow("out of range") << QStringList{"simulate"} << R"({"pipeline": {"chunks": 0}})"
                                      << "\"pipeline.chunks\": must be >= 1, got 0";
        QTest::newRow("unknown schedule")
            << QStringList{"simulate"} << R"({"pipeline": {"schedule": "zz"}})"
            << "unknown schedule \"zz\" (allowed: gpipe, 1f1b, interleaved, zb-greedy, bfs";
        QTest::newRow("impossible interleaved")
            << QStringList{"simulate", "--schedule", "interleaved", "--chunks", "2", "--microbatches", "9"} << ""
            << "9 is not a multiple of that; try 8 or 10";
        QTest::newRow("empty stage") << QStringList{"simulate", "--boundaries", "1,1,4"} << ""
                                     << "\"pipeline.boundaries\": chunk 1 is empty";
        QTest::newRow("validate needs file") << QStringList{"validate"} << ""
                                             << "validate needs --schedule-file";
        QTest::newRow("trailing comma") << QStringList{"simulate", "--boundaries", "3,6,"} << ""
                                        << "--boundaries: expected an integer, got \"\"";
        QTest::newRow("bad width before any output") << QStringList{"simulate", "--width", "5"} << ""
                                                     << "--width must be in 10..10000, got 5";
        QTest::newRow("too many actions") << QStringList{"simulate", "--stages", "512", "--microbatches", "65536"} << ""
                                          << "exceeds PipeLab's limit";
        QTest::newRow("model too large")
            << QStringList{"simulate"}
            << R"({"model": {"d_model": 65536, "heads": 1024, "seq_len": 65536, "microbatch_size": 65536}})"
            << "would take";
        QTest::newRow("import without files") << QStringList{"import"} << ""
                                              << "import needs trace files";
        QTest::newRow("import a missing file") << QStringList{"import", "/nonexistent/rank0.json"} << ""
                                               << "cannot import: no such file or folder: /nonexistent/rank0.json";
        QTest::newRow("import one rank of two")
            << QStringList{"import", PIPELAB_KINETO_FIXTURES "/zb_rank0.json.gz"} << ""
            << "no file for rank 1";
        QTest::newRow("import a config") << QStringList{"import", PIPELAB_SAMPLES "/balanced_1f1b.json"} << ""
                                         << "holds no pipeline actions";
        QTest::newRow("import a step it lacks")
            << QStringList{"import", PIPELAB_KINETO_FIXTURES "/zb_rank0.json.gz",
                           PIPELAB_KINETO_FIXTURES "/zb_rank1.json.gz", "--step", "9"}
            << ""
            << "step 9";
        QTest::newRow("positional argument elsewhere") << QStringList{"simulate", "x.json"} << ""
                                                       << "unexpected argument \"x.json\"";
        QTest::newRow("directory as config") << QStringList{"simulate", "--config", "/tmp"} << ""
                                             << "cannot read config file";
    }
    void badInputExits2() {
        QFETCH(QStringList, args);
        QFETCH(QString, config);
        QFETCH(QString, message);
        QTemporaryDir tmp;
        if (!config.isEmpty()) {
            QFile f(tmp.filePath("cfg.json"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(config.toUtf8());
            f.close();
            args << "--config" << f.fileName();
        }
        const Result r = run_cli(args);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
    }

    void scheduleSaveValidateAndBreak() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("s.json");
        Result r = run_cli({"schedule", "--stages", "2", "--microbatches", "2", "--out", path});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = run_cli({"validate", "--schedule-file", path});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("is valid"));
        // The user edits the file and drops a backward: rejected, naming rank and action.
        QJsonObject s = read_json(path);
        QJsonArray ranks = s["actions"].toArray();
        QJsonArray r1 = ranks[1].toArray();
        for (qsizetype i = 0; i < r1.size(); ++i)
            if (r1[i].toString() == "1B1") r1.removeAt(i--);
        ranks[1] = r1;
        s["actions"] = ranks;
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QJsonDocument(s).toJson());
        f.close();
        r = run_cli({"validate", "--schedule-file", path});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("rank 1, action #") && r.err.contains("has no backward"), qPrintable(r.err));
        // simulate refuses the broken schedule too
        r = run_cli({"simulate", "--stages", "2", "--microbatches", "2", "--schedule-file", path});
        QCOMPARE(r.code, 2);
    }

    // An action moved before what it needs: validate explains it in the words the app's
    // schedule editor shows for a refused move.
    void validateExplainsAMisplacedAction() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("s.json");
        Result r = run_cli({"schedule", "--stages", "2", "--microbatches", "2", "--out", path});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QJsonObject s = read_json(path);
        QJsonArray ranks = s["actions"].toArray();
        QJsonArray r1 = ranks[1].toArray();
        for (qsizetype i = 0; i < r1.size(); ++i)
            if (r1[i].toString() == "1B0") r1.removeAt(i--);
        r1.insert(0, QStringLiteral("1B0"));
        ranks[1] = r1;
        s["actions"] = ranks;
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QJsonDocument(s).toJson());
        f.close();
        r = run_cli({"validate", "--schedule-file", path});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(
                     "rank 1, action #0 (1B0): 1B0 cannot come before 1F0: its forward has not run (1F0 is at #2)"),
                 qPrintable(r.err));
    }

    void runOnCpuBackend() {
        QTemporaryDir tmp;
        QFile cfg(tmp.filePath("cpu.json"));
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(R"({"model": {"vocab": 64, "d_model": 32, "heads": 2, "layers": 2, "d_ff": 64,
                      "seq_len": 16, "microbatch_size": 2},
                     "pipeline": {"stages": 2, "microbatches": 4}, "backend": "cpu", "steps": 3})");
        cfg.close();
        const QString stats = tmp.filePath("stats.json"), trace = tmp.filePath("trace.json");
        const Result r = run_cli({"run", "--config", cfg.fileName(), "--stats-json", stats, "--trace", trace});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("step 3/3"));
        QVERIFY(r.out.contains("backend cpu"));
        const QJsonObject st = read_json(stats);
        QCOMPARE(st["backend"].toString(), QString("cpu"));
        QCOMPARE(st["losses"].toArray().size(), 3);
        QCOMPARE(st["step_times_us"].toArray().size(), 3);
        QVERIFY(st["step_times_us"].toArray()[2].toDouble() > 0);
        QVERIFY(st["loss"].toDouble() > 0);
        QCOMPARE(st["ranks"].toArray().size(), 2);
        QVERIFY(read_json(trace)["traceEvents"].toArray().size() > 0);
        // The same config with a backend that is not built: exit 2 with the reason.
        const Result bad = run_cli({"run", "--config", cfg.fileName(), "--backend", "cuda"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("\"backend\": \"cuda\" is not available"), qPrintable(bad.err));
    }

    // profile -> simulate --profile -> partition --apply, and what they refuse.
    void profileAndAutoPartition() {
        QTemporaryDir tmp;
        const QString cfgPath = tmp.filePath("tiny.json");
        QFile cfg(cfgPath);
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(R"({"model": {"vocab": 512, "d_model": 32, "heads": 2, "layers": 4, "d_ff": 64,
                      "seq_len": 16, "microbatch_size": 2},
                     "pipeline": {"stages": 2, "microbatches": 4}, "backend": "cpu", "steps": 3, "seed": 7})");
        cfg.close();
        const QString prof = tmp.filePath("tiny.profile.json");
        const Result p = run_cli({"profile", "--config", cfgPath, "--repeats", "3", "--out", prof});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        QVERIFY(p.out.contains("head"));
        const QJsonObject pj = read_json(prof);
        QCOMPARE(pj["layers"].toArray().size(), 6);
        QCOMPARE(pj["backend"].toString(), QString("cpu"));
        QVERIFY(pj["layers"].toArray()[5].toObject()["f"].toObject()["median_us"].toDouble() > 0);

        const Result s = run_cli({"simulate", "--config", cfgPath, "--profile", prof, "--no-gantt"});
        QVERIFY2(s.code == 0, qPrintable(s.err));
        // Another model: refused, naming what differs.
        const Result other = run_cli({"simulate", "--profile", prof, "--no-gantt"});
        QCOMPARE(other.code, 2);
        QVERIFY2(other.err.contains("model.vocab: profile 512, config 256"), qPrintable(other.err));

        const Result a = run_cli({"partition", "--config", cfgPath, "--profile", prof, "--apply"});
        QVERIFY2(a.code == 0, qPrintable(a.err));
        QVERIFY(a.out.contains("gain over the balanced default"));
        const QJsonObject applied = read_json(cfgPath);
        QCOMPARE(applied["pipeline"].toObject()["boundaries"].toArray().size(), 1);
        QCOMPARE(applied["seed"].toInt(), 7);  // the rest of the file kept
        QCOMPARE(applied["steps"].toInt(), 3);

        const Result cap = run_cli({"partition", "--config", cfgPath, "--memory-cap", "1KiB"});
        QCOMPARE(cap.code, 2);
        QVERIFY2(cap.err.contains("rank") && cap.err.contains("smallest cap that works"), qPrintable(cap.err));
        const Result badCap = run_cli({"partition", "--config", cfgPath, "--memory-cap", "2 parsecs"});
        QCOMPARE(badCap.code, 2);
        QVERIFY(badCap.err.contains("--memory-cap"));
        const Result simProfile = run_cli(
            {"profile", "--config", cfgPath, "--backend", "sim", "--repeats", "2", "--out", tmp.filePath("p2.json")});
        QCOMPARE(simProfile.code, 0);  // sim means: measure on cpu
    }

    // A PyTorch job's traces: report, Gantt, stats with the import's notes, and the order
    // as a schedule file that validates and simulates.
    void importPyTorchTraces() {
        QTemporaryDir tmp;
        const QString stats = tmp.filePath("stats.json"), order = tmp.filePath("order.json"),
                      trace = tmp.filePath("t.json.gz");
        const QString dir = PIPELAB_KINETO_FIXTURES;
        Result r = run_cli({"import", dir + "/1f1b_rank0.json.gz", dir + "/1f1b_rank1.json.gz", "--stats-json", stats,
                            "--schedule-out", order, "--trace", trace, "--width", "60"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("order recognised as 1f1b"));
        QVERIFY(r.out.contains("order inferred"));
        QVERIFY(r.out.contains("(p-1)/(m+p-1) = 1/5"));  // the bubble beside the formula
        QVERIFY(r.out.contains("rank 1  |"));
        const QJsonObject st = read_json(stats);
        QCOMPARE(st["schedule"].toString(), QString("1f1b"));
        QCOMPARE(st["backend"].toString(), QString("pytorch"));
        const QJsonObject imp = st["import"].toObject();
        QCOMPARE(imp["recognised_schedule"].toString(), QString("1f1b"));
        QCOMPARE(imp["step"].toInt(), 2);
        QCOMPARE(imp["inferred"].toBool(), true);
        QCOMPARE(imp["clock_shift_us"].toArray().size(), 2);
        r = run_cli({"validate", "--schedule-file", order});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = run_cli({"simulate", "--stages", "2", "--microbatches", "4", "--schedule-file", order, "--no-gantt"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("schedule 1f1b"));
        // The exported trace opens again as a PipeLab trace.
        r = run_cli({"import", trace, "--no-gantt"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("a PipeLab trace"));
    }

    void importFolderAndStep() {
        const Result r = run_cli({"import", PIPELAB_KINETO_FIXTURES, "--no-gantt"});
        QCOMPARE(r.code, 2);  // the folder holds several runs: rank 0 appears more than once
        QVERIFY2(r.err.contains("appears twice"), qPrintable(r.err));
        QTemporaryDir tmp;
        for (const char* f : {"zb_rank0.json.gz", "zb_rank1.json.gz"})
            QVERIFY(QFile::copy(QString(PIPELAB_KINETO_FIXTURES) + "/" + f, tmp.filePath(f)));
        const Result ok = run_cli({"import", tmp.path(), "--step", "1", "--no-gantt"});
        QVERIFY2(ok.code == 0, qPrintable(ok.err));
        QVERIFY(ok.out.contains("step 1 of 2 rank file(s)"));
        QVERIFY(ok.out.contains("unknown order") || ok.out.contains("order recognised as"));
    }

    void unwritableOutputFailsCleanly() {
        const Result r = run_cli({"simulate", "--trace", "/nonexistent-dir/t.json", "--no-gantt"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("cannot write trace to /nonexistent-dir/t.json"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
