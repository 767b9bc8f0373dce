// Every generator reproduces its peer's per-rank order of F, B, I, W exactly, refuses what
// the peer refuses, and yields a schedule the validator accepts. Goldens are the peers' own
// orders, dumped by the scripts beside them (tests/core/fixtures/schedules).
#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/schedule_gen.h"
#include "core/schedule_match.h"
#include "core/validate.h"
#include "test_util.h"

using namespace pipelab;
using pipelab::test::text;

namespace {
nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
}

// Extra full-grid dumps (':'-separated) to check beside the committed small cases.
std::vector<std::string> golden_files() {
    const std::string dir = PIPELAB_SCHEDULE_GOLDENS;
    std::vector<std::string> files = {dir + "/torch.json", dir + "/zb_h.json", dir + "/dualpipev_deepseek.json",
                                      dir + "/pipelab.json"};
    const QString extra = qEnvironmentVariable("PIPELAB_SCHEDULE_GOLDENS");
    for (const QString& f : extra.split(':', Qt::SkipEmptyParts)) files.push_back(f.toStdString());
    return files;
}

std::vector<std::string> rank_texts(const nlohmann::json& ranks) {
    std::vector<std::string> out;
    for (const auto& r : ranks) {
        if (r.is_string()) {
            out.push_back(r.get<std::string>());
            continue;
        }
        std::string s;
        for (const auto& a : r) s += (s.empty() ? "" : " ") + a.get<std::string>();
        out.push_back(s);
    }
    return out;
}

Schedule compute_order(const ScheduleSpec& spec) {
    const int p = spec.stages, m = spec.microbatches, v = spec.chunks;
    switch (spec.kind) {
    case ScheduleKind::GPipe: return gpipe_order(p, m);
    case ScheduleKind::OneFOneB: return one_f_one_b_order(p, m);
    case ScheduleKind::Interleaved: return interleaved_order(p, m, v);
    case ScheduleKind::ZeroBubble: return zero_bubble_order(p, m);
    case ScheduleKind::LoopedBFS: return looped_bfs_order(p, m, v);
    case ScheduleKind::InterleavedZB: return interleaved_zb_order(p, m, v);
    case ScheduleKind::ZBH1: return zb_h_order(p, m, 1);
    case ScheduleKind::ZBH2: return zb_h_order(p, m, 2);
    case ScheduleKind::ZBV: return zbv_order(p, m);
    case ScheduleKind::DualPipeV: return dualpipev_order(p, m);
    case ScheduleKind::NUM_SCHEDULES: break;
    }
    throw std::logic_error("unknown kind");
}
}  // namespace

class TestScheduleGoldens : public QObject {
    Q_OBJECT
private slots:
    void generatorsMatchPeers() {
        std::map<std::string, int> matched, refused;
        for (const std::string& file : golden_files()) {
            const nlohmann::json doc = read_json(file);
            for (const auto& c : doc.at("cases")) {
                const std::string name = c.at("schedule");
                const auto kind = parse_schedule_kind(name);
                QVERIFY2(kind.has_value(), name.c_str());
                const ScheduleSpec spec{*kind, c.at("stages"), c.at("microbatches"), c.at("chunks")};
                const std::string where = file + ": " + name + " p=" + std::to_string(spec.stages) +
                                          " m=" + std::to_string(spec.microbatches) +
                                          " v=" + std::to_string(spec.chunks);
                const auto problem = check_schedule_spec(spec, 1 << 20);
                if (c.contains("refused")) {
                    QVERIFY2(problem.has_value(), ("peer refuses, PipeLab accepts: " + where).c_str());
                    ++refused[name];
                    continue;
                }
                // PipeLab's one deliberate refusal of an accepted spec: one chunk per
                // stage is 1f1b's job, not interleaved's.
                if (spec.kind == ScheduleKind::Interleaved && spec.chunks == 1) {
                    QVERIFY(problem.has_value());
                    continue;
                }
                QVERIFY2(!problem, (where + ": " + (problem ? problem->message : "")).c_str());
                const Schedule s = compute_order(spec);
                QCOMPARE(s.name, name);
                const auto want = rank_texts(c.at("ranks"));
                QCOMPARE(int(want.size()), spec.stages);
                for (int r = 0; r < spec.stages; ++r)
                    QVERIFY2(text(s.ranks[r]) == want[r], (where + " rank " + std::to_string(r) + "\n got  " +
                                                           text(s.ranks[r]) + "\n want " + want[r])
                                                              .c_str());
                const auto err = validate_schedule(make_schedule(spec, 1 << 20));
                QVERIFY2(!err, (where + ": " + (err ? err->what() : "")).c_str());
                ++matched[name];
            }
        }
        for (std::string name :
             {"interleaved", "interleaved-zb", "bfs", "zb-v", "dualpipev", "zb-h1", "zb-h2", "zb-greedy"})
            QVERIFY2(matched[name] > 10, name.c_str());
        QVERIFY(refused["dualpipev"] > 0 && refused["interleaved"] > 0);
    }

    // An imported order (a PyTorch trace) is recognised as the kind that generated it, V
    // placement included, unless an earlier kind generates the very same order.
    void ordersAreRecognised() {
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k)
            for (int p : {2, 3, 4})
                for (int m : {4, 8, 12}) {
                    const auto kind = ScheduleKind(k);
                    const int v = kind == ScheduleKind::Interleaved ? 2 : default_chunks(kind);
                    if (check_schedule_spec({kind, p, m, v}, 1 << 20)) continue;
                    const Schedule s = make_schedule({kind, p, m, v}, 1 << 20);
                    const auto got = recognise_schedule(s);
                    QVERIFY(got.has_value());
                    if (*got != kind) {  // only an identical order from an earlier kind
                        QVERIFY(int(*got) < k);
                        QVERIFY(compute_only(make_schedule({*got, p, m, v}, 1 << 20)).ranks == compute_only(s).ranks);
                    }
                }
        const Schedule zbv = make_schedule({ScheduleKind::ZBV, 4, 8, 2}, 8);
        QCOMPARE(recognise_schedule(zbv), std::optional<ScheduleKind>(ScheduleKind::ZBV));
    }
};

QTEST_GUILESS_MAIN(TestScheduleGoldens)
#include "tst_schedule_goldens.moc"
