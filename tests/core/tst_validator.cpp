// The validator rejects hand-broken schedules and names rank, action index and problem.
#include <QtTest>

#include "core/schedule_gen.h"
#include "core/validate.h"
#include "test_util.h"

using namespace pipelab;
using pipelab::test::actions;

namespace {
// A hand-written 2-rank, 2-microbatch 1F1B schedule, edited per test row.
Schedule two_rank(const std::string& rank0, const std::string& rank1, int m = 2) {
    Schedule s;
    s.name = "custom";
    s.n_ranks = 2;
    s.n_microbatches = m;
    s.chunk_rank = {0, 1};
    s.ranks = {actions(rank0), actions(rank1)};
    return s;
}
const char* kGood0 = "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1";
const char* kGood1 = "1RECV_F0 1F0 1B0 1SEND_B0 1RECV_F1 1F1 1B1 1SEND_B1";
}  // namespace

class TestValidator : public QObject {
    Q_OBJECT
private slots:
    void acceptsTheHandWrittenBaseline() {
        const auto err = validate_schedule(two_rank(kGood0, kGood1));
        QVERIFY2(!err, err ? err->what().c_str() : "");
    }

    void acceptsSplitBackward() {
        const auto err = validate_schedule(two_rank("0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0I0 0RECV_B1 0I1 0W0 0W1",
                                                    "1RECV_F0 1F0 1I0 1SEND_B0 1RECV_F1 1F1 1I1 1SEND_B1 1W1 1W0"));
        QVERIFY2(!err, err ? err->what().c_str() : "");
    }

    void rejectsBrokenSchedules_data() {
        QTest::addColumn<QString>("rank0");
        QTest::addColumn<QString>("rank1");
        QTest::addColumn<int>("rank");
        QTest::addColumn<int>("index");
        QTest::addColumn<QString>("says");
        QTest::newRow("missing backward") << kGood0 << "1RECV_F0 1F0 1B0 1SEND_B0 1RECV_F1 1F1 1SEND_B1" << 1 << 7
                                          << "chunk 1 microbatch 1 has no backward";
        QTest::newRow("duplicate forward") << "0F0 0SEND_F0 0F1 0SEND_F1 0F1 0RECV_B0 0B0 0RECV_B1 0B1" << kGood1 << 0
                                           << 4 << "duplicate F: already at #2";
        QTest::newRow("recv with no send") << "0F0 0SEND_F0 0F1 0RECV_B0 0B0 0RECV_B1 0B1" << kGood1 << 1 << 4
                                           << "receive with no matching send: rank 0 never runs 0SEND_F1";
        QTest::newRow("circular wait") << "0F0 0SEND_F0 0F1 0RECV_B0 0SEND_F1 0B0 0RECV_B1 0B1"
                                       << "1RECV_F0 1F0 1RECV_F1 1F1 1B0 1SEND_B0 1B1 1SEND_B1" << 0 << 3
                                       << "deadlock: circular wait";
        QTest::newRow("backward before forward") << "0F0 0SEND_F0 0RECV_B1 0B1 0F1 0SEND_F1 0RECV_B0 0B0" << kGood1 << 0
                                                 << 3 << "0B1 cannot come before 0F1: its forward has not run";
        QTest::newRow("forward before its input")
            << kGood0 << "1F0 1RECV_F0 1B0 1SEND_B0 1RECV_F1 1F1 1B1 1SEND_B1" << 1 << 0
            << "1F0 cannot come before 1RECV_F0: its input has not arrived";
        QTest::newRow("action on the wrong rank") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1 1F0" << kGood1
                                                  << 0 << 8 << "chunk 1 lives on rank 1";
        QTest::newRow("microbatch out of range") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1 0F7" << kGood1
                                                 << 0 << 8 << "microbatch 7 not in 0..1";
        QTest::newRow("send across no boundary") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1 0SEND_B0"
                                                 << kGood1 << 0 << 8 << "no rank boundary before chunk 0";
        QTest::newRow("B and W both") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1 0W1" << kGood1 << 0 << 8
                                      << "has both a full backward B and a split I/W";
        QTest::newRow("W without I") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0W1" << kGood1 << 0 << 7
                                     << "chunk 0 microbatch 1 has W but no I";
        QTest::newRow("I without W") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0I1" << kGood1 << 0 << 8
                                     << "chunk 0 microbatch 1 has I but no W";
        QTest::newRow("W before I") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0W1 0I1" << kGood1 << 0 << 7
                                    << "0W1 cannot come before 0I1: its input gradient (I) has not run";
        QTest::newRow("gradient never received") << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0B1" << kGood1 << 0 << 7
                                                 << "never receives its output gradient (RECV_B) from rank 1";
        QTest::newRow("gradient received too late")
            << "0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0B1 0RECV_B1" << kGood1 << 0 << 6
            << "0B1 cannot come before 0RECV_B1: its output gradient has not arrived";
    }
    void rejectsBrokenSchedules() {
        QFETCH(QString, rank0);
        QFETCH(QString, rank1);
        QFETCH(int, rank);
        QFETCH(int, index);
        QFETCH(QString, says);
        const auto err = validate_schedule(two_rank(rank0.toStdString(), rank1.toStdString()));
        QVERIFY2(err.has_value(), "broken schedule accepted");
        const QString msg = QString::fromStdString(err->what());
        QVERIFY2(msg.contains(says), qPrintable(msg));
        QCOMPARE(err->rank, rank);
        QCOMPARE(err->index, index);
        // The message names rank and action index, and the grid marks the bad step.
        QVERIFY2(msg.contains(QString("rank %1, action #%2").arg(rank).arg(index)), qPrintable(msg));
        QVERIFY2(msg.contains(QString("> rank %1:").arg(rank)), qPrintable(msg));
    }

    void circularWaitNamesBothRanks() {
        const auto err = validate_schedule(two_rank("0F0 0SEND_F0 0F1 0RECV_B0 0SEND_F1 0B0 0RECV_B1 0B1",
                                                    "1RECV_F0 1F0 1RECV_F1 1F1 1B0 1SEND_B0 1B1 1SEND_B1"));
        QVERIFY(err);
        const QString msg = QString::fromStdString(err->message);
        QVERIFY2(msg.contains("rank 0 at #3 (0RECV_B0) waits for rank 1's 1SEND_B0 (#5)"), qPrintable(msg));
        QVERIFY2(msg.contains("rank 1 at #2 (1RECV_F1) waits for rank 0's 0SEND_F1 (#4)"), qPrintable(msg));
    }

    void rejectsBadShape() {
        Schedule s = two_rank(kGood0, kGood1);
        s.chunk_rank = {0, 2};
        const auto err = validate_schedule(s);
        QVERIFY(err);
        QVERIFY2(err->message.find("chunk 1 is mapped to rank 2") != std::string::npos, err->message.c_str());
    }

    void largeGeneratedSchedulesValidate() {
        const Schedule s = make_schedule({ScheduleKind::Interleaved, 16, 128, 2}, 64);
        const auto err = validate_schedule(s);
        QVERIFY2(!err, err ? err->what().c_str() : "");
    }
};

QTEST_GUILESS_MAIN(TestValidator)
#include "tst_validator.moc"
