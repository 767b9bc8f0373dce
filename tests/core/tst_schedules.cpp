// Schedule IR text form, generators (golden orders), spec checks, JSON round trip,
// and partitions.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/partition.h"
#include "core/recompute.h"
#include "core/schedule_gen.h"
#include "core/validate.h"
#include "test_util.h"

using namespace pipelab;
using pipelab::test::compute_text;
using pipelab::test::text;

class TestSchedules : public QObject {
    Q_OBJECT
private slots:
    void actionTextRoundTrips() {
        for (int k = 0; k < kNumActionKinds; ++k) {
            const Action a{static_cast<ActionKind>(k), 12, 345};
            const auto back = parse_action(to_string(a));
            QVERIFY2(back.has_value(), to_string(a).c_str());
            QCOMPARE(*back, a);
        }
        QCOMPARE(to_string(Action{ActionKind::SEND_B, 2, 5}), std::string("2SEND_B5"));
    }

    void actionTextRejectsGarbage_data() {
        QTest::addColumn<QString>("input");
        QTest::newRow("empty") << "";
        QTest::newRow("no chunk") << "F3";
        QTest::newRow("no microbatch") << "0F";
        QTest::newRow("unknown kind") << "0X3";
        QTest::newRow("trailing") << "0F3x";
        QTest::newRow("negative") << "-1F3";
        QTest::newRow("lower case") << "0f3";
    }
    void actionTextRejectsGarbage() {
        QFETCH(QString, input);
        QVERIFY(!parse_action(input.toStdString()).has_value());
    }

    // Golden compute orders (the communication is added by add_send_recv, tested below).
    void gpipeOrder() {
        const Schedule s = gpipe_order(2, 3);
        QCOMPARE(text(s.ranks[0]), std::string("0F0 0F1 0F2 0B0 0B1 0B2"));
        QCOMPARE(text(s.ranks[1]), std::string("1F0 1F1 1F2 1B0 1B1 1B2"));
    }

    void oneFOneBOrder() {
        const Schedule s = one_f_one_b_order(4, 6);
        QCOMPARE(text(s.ranks[0]), std::string("0F0 0F1 0F2 0F3 0B0 0F4 0B1 0F5 0B2 0B3 0B4 0B5"));
        QCOMPARE(text(s.ranks[2]), std::string("2F0 2F1 2B0 2F2 2B1 2F3 2B2 2F4 2B3 2F5 2B4 2B5"));
        QCOMPARE(text(s.ranks[3]), std::string("3F0 3B0 3F1 3B1 3F2 3B2 3F3 3B3 3F4 3B4 3F5 3B5"));
        // Fewer microbatches than warm-up slots: all forwards, then all backwards.
        QCOMPARE(text(one_f_one_b_order(4, 2).ranks[0]), std::string("0F0 0F1 0B0 0B1"));
    }

    // Megatron's interleaved order, p=2, m=4, v=2: rank r holds chunks r and r+2; forwards
    // in groups of p microbatches per chunk; warm-up 2(p-r-1) + (v-1)p.
    void interleavedOrder() {
        const Schedule s = interleaved_order(2, 4, 2);
        QCOMPARE(s.chunk_rank, (std::vector<int>{0, 1, 0, 1}));
        QCOMPARE(text(s.ranks[0]), std::string("0F0 0F1 2F0 2F1 0F2 2B0 0F3 2B1 2F2 0B0 2F3 0B1 2B2 2B3 0B2 0B3"));
        QCOMPARE(text(s.ranks[1]), std::string("1F0 1F1 3F0 3B0 3F1 3B1 1F2 1B0 1F3 1B1 3F2 3B2 3F3 3B3 1B2 1B3"));
    }

    // Names round-trip; "zb" stays an alias of zb-greedy so old configs and traces load.
    void scheduleNames() {
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k)
            QCOMPARE(parse_schedule_kind(to_string(ScheduleKind(k))), std::optional<ScheduleKind>(ScheduleKind(k)));
        QCOMPARE(to_string(ScheduleKind::ZeroBubble), std::string_view("zb-greedy"));
        QCOMPARE(parse_schedule_kind("zb"), std::optional<ScheduleKind>(ScheduleKind::ZeroBubble));
        QVERIFY(!parse_schedule_kind("zb-h3"));
        QCOMPARE(default_chunks(ScheduleKind::ZBV), 2);
        QCOMPARE(default_chunks(ScheduleKind::ZBH1), 1);
    }

    // V placement: rank r holds chunks r and 2p-1-r; the lowering sends between them.
    void vPlacement() {
        QCOMPARE(v_chunk_ranks(3), (std::vector<int>{0, 1, 2, 2, 1, 0}));
        const Schedule s = make_schedule({ScheduleKind::ZBV, 2, 2, 2}, 4);
        QCOMPARE(s.chunk_rank, (std::vector<int>{0, 1, 1, 0}));
        // Chunk 1 -> 2 stays on rank 1: no SEND_F between them; chunk 2 -> 3 crosses.
        QCOMPARE(text(s.ranks[1]), std::string("1RECV_F0 1F0 2F0 2SEND_F0 1RECV_F1 1F1 2F1 2SEND_F1 2RECV_B0 2I0 "
                                               "2W0 1I0 1SEND_B0 1W0 2RECV_B1 2I1 2W1 1I1 1SEND_B1 1W1"));
    }

    void sendRecvLowering() {
        const Schedule s = add_send_recv(one_f_one_b_order(2, 2));
        QCOMPARE(text(s.ranks[0]), std::string("0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1"));
        QCOMPARE(text(s.ranks[1]), std::string("1RECV_F0 1F0 1B0 1SEND_B0 1RECV_F1 1F1 1B1 1SEND_B1"));
        // Compute order is untouched by the pass.
        QCOMPARE(compute_text(s.ranks[0]), text(one_f_one_b_order(2, 2).ranks[0]));
    }

    void splitBackwardPass() {
        const Schedule s = add_send_recv(one_f_one_b_order(2, 2));
        QCOMPARE(text(split_backward(s, false).ranks[0]),
                 std::string("0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0I0 0W0 0RECV_B1 0I1 0W1"));
        QCOMPARE(text(split_backward(s, true).ranks[1]),
                 std::string("1RECV_F0 1F0 1I0 1SEND_B0 1RECV_F1 1F1 1I1 1SEND_B1 1W0 1W1"));
        QVERIFY(!validate_schedule(split_backward(s, true)));
        QVERIFY(!validate_schedule(split_backward(make_schedule({ScheduleKind::Interleaved, 4, 8, 2}, 16), true)));
    }

    void everyGeneratedScheduleValidates() {
        int checked = 0;
        for (int p = 1; p <= 8; ++p)
            for (int m = 1; m <= 32; ++m) {
                for (auto kind : {ScheduleKind::GPipe, ScheduleKind::OneFOneB, ScheduleKind::ZeroBubble}) {
                    const Schedule s = make_schedule({kind, p, m, 1}, 64);
                    const auto err = validate_schedule(s);
                    QVERIFY2(!err, err ? err->what().c_str() : "");
                    const int per_mb = kind == ScheduleKind::ZeroBubble ? 3 : 2;  // F, B or F, I, W
                    QCOMPARE(s.action_count(), std::size_t(per_mb * p * m + 4 * (p - 1) * m));
                    ++checked;
                }
                // Every other kind wherever its spec check accepts (p, m, v).
                for (auto kind : {ScheduleKind::Interleaved, ScheduleKind::LoopedBFS, ScheduleKind::InterleavedZB,
                                  ScheduleKind::ZBH1, ScheduleKind::ZBH2, ScheduleKind::ZBV, ScheduleKind::DualPipeV})
                    for (int v = 1; v <= 4; ++v) {
                        if (check_schedule_spec({kind, p, m, v}, 64)) continue;
                        const Schedule s = make_schedule({kind, p, m, v}, 64);
                        const auto err = validate_schedule(s);
                        QVERIFY2(!err, err ? err->what().c_str() : "");
                        if (m <= 12) {  // and with every chunk recomputed
                            const auto rc =
                                validate_schedule(add_recompute(s, std::vector<bool>(std::size_t(p * v), true)));
                            QVERIFY2(!rc, rc ? rc->what().c_str() : "");
                        }
                        ++checked;
                    }
            }
        QVERIFY(checked > 3000);
    }

    void impossibleSpecsAreRefused_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("v");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("says");
        const int I = int(ScheduleKind::Interleaved), G = int(ScheduleKind::GPipe);
        QTest::newRow("interleaved m not multiple of rounds") << I << 4 << 9 << 2 << "microbatches"
                                                              << "try 8 or 10";
        QTest::newRow("zb-v three chunks") << int(ScheduleKind::ZBV) << 4 << 8 << 3 << "chunks"
                                           << "set chunks to 2";
        QTest::newRow("dualpipev m < 2p") << int(ScheduleKind::DualPipeV) << 4 << 7 << 2 << "microbatches"
                                          << "use 8 or more";
        QTest::newRow("zb-h1 two chunks") << int(ScheduleKind::ZBH1) << 4 << 8 << 2 << "chunks"
                                          << "zb-v";
        QTest::newRow("interleaved one chunk") << I << 4 << 8 << 1 << "chunks"
                                               << "use 1f1b";
        QTest::newRow("gpipe two chunks") << G << 4 << 8 << 2 << "chunks"
                                          << "interleaved";
        QTest::newRow("more chunks than layers") << I << 4 << 8 << 3 << "stages"
                                                 << "only 10 layers";
        QTest::newRow("zero microbatches") << G << 4 << 0 << 1 << "microbatches"
                                           << ">= 1";
    }
    void impossibleSpecsAreRefused() {
        QFETCH(int, kind);
        QFETCH(int, p);
        QFETCH(int, m);
        QFETCH(int, v);
        QFETCH(QString, field);
        QFETCH(QString, says);
        const auto problem = check_schedule_spec({ScheduleKind(kind), p, m, v}, 10);
        QVERIFY(problem.has_value());
        QCOMPARE(QString::fromStdString(problem->field), field);
        QVERIFY2(QString::fromStdString(problem->message).contains(says), problem->message.c_str());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, make_schedule({ScheduleKind(kind), p, m, v}, 10));
    }

    void scheduleJsonRoundTrips() {
        const Schedule s = make_schedule({ScheduleKind::Interleaved, 4, 8, 2}, 16);
        const Schedule back = schedule_from_json(nlohmann::json::parse(schedule_to_json(s).dump()));
        QCOMPARE(back.name, s.name);
        QCOMPARE(back.n_ranks, s.n_ranks);
        QCOMPARE(back.n_microbatches, s.n_microbatches);
        QCOMPARE(back.chunk_rank, s.chunk_rank);
        QVERIFY(back.ranks == s.ranks);
    }

    void scheduleJsonErrorsNameThePlace() {
        auto j = schedule_to_json(make_schedule({ScheduleKind::OneFOneB, 2, 2, 1}, 4));
        j["actions"][1][2] = "1Q0";
        try {
            schedule_from_json(j);
            QFAIL("accepted a bad action");
        } catch (const std::runtime_error& e) {
            QVERIFY2(QString(e.what()).contains("rank 1 action #2"), e.what());
        }
    }

    void balancedPartitionOnUniformCosts() {
        const Partition p = balanced_partition(std::vector<double>(12, 1.0), 4);
        QCOMPARE(p.bounds, (std::vector<int>{0, 3, 6, 9, 12}));
        QVERIFY(!check_partition(p, 4));
        QCOMPARE(p.cuts(), (std::vector<int>{3, 6, 9}));
    }

    void balancedPartitionIsolatesAHeavyLayer() {
        // A heavy head (last layer) gets a stage of its own.
        const Partition p = balanced_partition({1, 1, 1, 1, 1, 1, 6}, 3);
        QCOMPARE(p.bounds, (std::vector<int>{0, 3, 6, 7}));
    }

    void partitionChecks_data() {
        QTest::addColumn<QList<int>>("cuts");
        QTest::addColumn<QString>("says");
        QTest::newRow("empty chunk") << QList<int>{3, 3, 6} << "chunk 1 is empty";
        QTest::newRow("out of range") << QList<int>{3, 6, 12} << "chunk 3 is empty";
        QTest::newRow("decreasing") << QList<int>{6, 3, 9} << "chunk 1 is empty";
        QTest::newRow("too few") << QList<int>{3, 6} << "needs stages*chunks = 4";
    }
    void partitionChecks() {
        QFETCH(QList<int>, cuts);
        QFETCH(QString, says);
        const auto err = check_partition(partition_from_cuts(12, std::vector<int>(cuts.begin(), cuts.end())), 4);
        QVERIFY(err.has_value());
        QVERIFY2(QString::fromStdString(*err).contains(says), err->c_str());
    }
};

QTEST_GUILESS_MAIN(TestSchedules)
#include "tst_schedules.moc"
