// The simulator and Stats against the textbook: bubble formulas, in-flight microbatches,
// activation memory, communication cost, imbalance.
#include <QtTest>

#include <cmath>

#include "core/recompute.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "core/validate.h"

using namespace pipelab;

namespace {
constexpr std::int64_t kAct = 1000;  // activation bytes per layer per microbatch

// One layer per chunk, every layer the same cost, free communication.
Timeline run_uniform(ScheduleKind kind, int p, int m, int v, double f, double i, double w) {
    const Schedule s = make_schedule({kind, p, m, v}, p * v);
    const Partition part = balanced_partition(std::vector<double>(static_cast<std::size_t>(p * v), 1.0), p * v);
    return simulate(s, part, uniform_cost_model(p * v, f, i, w, kAct));
}
}  // namespace

class TestSimulator : public QObject {
    Q_OBJECT
private slots:
    // PRIMER: bubble fraction (p-1)/(m+p-1) for GPipe and 1F1B with balanced stages.
    void gpipeAnd1f1bBubbleMatchesFormula() {
        int rows = 0;
        for (auto kind : {ScheduleKind::GPipe, ScheduleKind::OneFOneB})
            for (const auto& [f, i, w] : {std::tuple{1.0, 1.0, 1.0}, std::tuple{3.0, 2.5, 4.0}})
                for (int p = 1; p <= 8; ++p)
                    for (int m = 1; m <= 32; ++m) {
                        const Stats st = compute_stats(run_uniform(kind, p, m, 1, f, i, w));
                        const double expect = double(p - 1) / double(m + p - 1);
                        if (std::abs(st.bubble_fraction - expect) > 1e-9)
                            QFAIL(qPrintable(QString("%1 p=%2 m=%3 f=%4: bubble %5, formula %6")
                                                 .arg(QString::fromStdString(std::string(to_string(kind))))
                                                 .arg(p)
                                                 .arg(m)
                                                 .arg(f)
                                                 .arg(st.bubble_fraction, 0, 'g', 17)
                                                 .arg(expect, 0, 'g', 17)));
                        QVERIFY(st.bubble_formula.has_value());
                        QVERIFY(std::abs(*st.bubble_formula - expect) < 1e-15);
                        // Step time: (m + p - 1) stage-times of F + B.
                        QVERIFY(std::abs(st.step_time_us - (m + p - 1) * (f + i + w)) < 1e-9 * st.step_time_us);
                        ++rows;
                    }
        QCOMPARE(rows, 2 * 2 * 8 * 32);
    }

    // PRIMER: interleaved bubble / ideal compute = (p-1)/(v*m).
    void interleavedBubbleMatchesFormula() {
        int rows = 0;
        for (const auto& [f, i, w] : {std::tuple{1.0, 1.0, 1.0}, std::tuple{1.0, 1.0, 0.0}})
            for (int p = 2; p <= 8; ++p)
                for (int v = 2; v <= 4; ++v)
                    for (int m = p; m <= 32; m += p) {
                        const Stats st = compute_stats(run_uniform(ScheduleKind::Interleaved, p, m, v, f, i, w));
                        const double expect = double(p - 1) / double(v * m);
                        for (const RankStats& r : st.ranks) {
                            const double ratio = r.idle_us / r.busy_us;
                            if (std::abs(ratio - expect) > 1e-9)
                                QFAIL(qPrintable(QString("p=%1 v=%2 m=%3 rank %4: bubble/ideal %5, formula %6")
                                                     .arg(p)
                                                     .arg(v)
                                                     .arg(m)
                                                     .arg(r.rank)
                                                     .arg(ratio, 0, 'g', 17)
                                                     .arg(expect, 0, 'g', 17)));
                        }
                        QVERIFY(std::abs(st.bubble_fraction - *st.bubble_formula) < 1e-9);
                        ++rows;
                    }
        QVERIFY(rows > 100);
    }

    // Zero bubble: the bubble is ZB-H1's (p-1)(F+I-W) per rank, a third of 1F1B's when
    // F = I = W, and rank r never holds more than 2p-1-r microbatches.
    void zeroBubbleReachesTheH1Bubble() {
        int rows = 0;
        for (const auto& [f, i, w] : {std::tuple{1.0, 1.0, 1.0}, std::tuple{2.0, 2.0, 1.0}})
            for (int p = 1; p <= 8; ++p)
                for (int m = p; m <= 32; ++m) {
                    const Stats st = compute_stats(run_uniform(ScheduleKind::ZeroBubble, p, m, 1, f, i, w));
                    const double expect = zero_bubble_formula(p, m, f, i, w);
                    if (std::abs(st.bubble_fraction - expect) > 1e-9)
                        QFAIL(qPrintable(QString("p=%1 m=%2 F=%3 I=%4 W=%5: bubble %6, formula %7")
                                             .arg(p)
                                             .arg(m)
                                             .arg(f)
                                             .arg(i)
                                             .arg(w)
                                             .arg(st.bubble_fraction, 0, 'g', 12)
                                             .arg(expect, 0, 'g', 12)));
                    QVERIFY(std::abs(*st.bubble_formula - expect) < 1e-12);
                    for (const RankStats& r : st.ranks) QVERIFY(r.peak_inflight_microbatches <= 2 * p - 1 - r.rank);
                    ++rows;
                }
        QVERIFY(rows > 300);
    }

    // ZB-H1 (the zero-bubble repo's order): each rank idles (p-1)(F+I-W) and holds at most
    // p microbatches, at F = I = W as the order was made for.
    void zbH1BubbleAndMemory() {
        int rows = 0;
        for (int p = 2; p <= 8; ++p)
            for (int m = p; m <= 32; ++m) {
                const Stats st = compute_stats(run_uniform(ScheduleKind::ZBH1, p, m, 1, 1, 1, 1));
                for (const RankStats& r : st.ranks) {
                    if (std::abs(r.idle_us - (p - 1) * 1.0) > 1e-9)
                        QFAIL(qPrintable(QString("p=%1 m=%2 rank %3: idle %4, (p-1)(F+I-W) = %5")
                                             .arg(p)
                                             .arg(m)
                                             .arg(r.rank)
                                             .arg(r.idle_us)
                                             .arg(p - 1)));
                    QVERIFY(r.peak_inflight_microbatches <= p);
                }
                QVERIFY(std::abs(*st.bubble_formula - st.bubble_fraction) < 1e-9);
                ++rows;
            }
        QVERIFY(rows > 150);
    }

    // With the same model (V chunks are half a stage each), ZB-H2 and ZB-V have less bubble
    // than ZB-H1 in the paper's measure (rank spans: the last rank's wait for its first
    // input is overlapped by the previous iteration), none at all from m >= 2p.
    void zbH2AndZbvBeatH1() {
        for (int p = 2; p <= 8; ++p)
            for (int m : {2 * p, 3 * p, 32}) {
                const double h1 = span_bubble_rate(compute_stats(run_uniform(ScheduleKind::ZBH1, p, m, 1, 1, 1, 1)));
                const double h2 = span_bubble_rate(compute_stats(run_uniform(ScheduleKind::ZBH2, p, m, 1, 1, 1, 1)));
                const double zv =
                    span_bubble_rate(compute_stats(run_uniform(ScheduleKind::ZBV, p, m, 2, 0.5, 0.5, 0.5)));
                QVERIFY(h2 < 1e-9 && zv < 1e-9);
                QVERIFY2(h2 < h1, qPrintable(QString("p=%1 m=%2: zb-h2 %3 vs zb-h1 %4").arg(p).arg(m).arg(h2).arg(h1)));
                QVERIFY2(zv < h1, qPrintable(QString("p=%1 m=%2: zb-v %3 vs zb-h1 %4").arg(p).arg(m).arg(zv).arg(h1)));
            }
    }

    // Recomputation on every chunk, for every schedule: peak activations drop, and the
    // step grows by about one forward per microbatch (the R actions of a rank; a rank's
    // waits absorb part of it, the pipeline's fill adds at most p-1 more).
    void recomputeTradesTimeForMemory() {
        const int p = 4, m = 8;
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
            const auto kind = ScheduleKind(k);
            const int v = kind == ScheduleKind::Interleaved ? 2 : default_chunks(kind);
            const double f = 1.0 / v;  // a chunk is 1/v of a stage
            const Schedule s = make_schedule({kind, p, m, v}, p * v);
            const Partition part = balanced_partition(std::vector<double>(static_cast<std::size_t>(p * v), 1.0), p * v);
            const CostModel cost = uniform_cost_model(p * v, f, f, f, kAct);
            const Stats plain = compute_stats(simulate(s, part, cost));
            const Stats rc =
                compute_stats(simulate(add_recompute(s, std::vector<bool>(std::size_t(p * v), true)), part, cost));
            const QString name = QString::fromStdString(std::string(to_string(kind)));
            // The rank with the most activations sizes the device; the last rank of 1F1B held
            // one microbatch's anyway, so compare the peaks over ranks.
            const auto peak = [](const Stats& st) {
                std::int64_t b = 0;
                for (const RankStats& r : st.ranks) b = std::max(b, r.peak_activation_bytes);
                return b;
            };
            // Where a W runs long after its I (zb-h1, zb-h2, interleaved-zb with one chunk),
            // the rank holding the most keeps the recomputed activations until the W: equal.
            QVERIFY2(peak(rc) <= peak(plain), qPrintable(name));
            const bool w_lags = kind == ScheduleKind::ZBH1 || kind == ScheduleKind::ZBH2 ||
                                (kind == ScheduleKind::InterleavedZB && v == 1);
            if (!w_lags) QVERIFY2(peak(rc) < peak(plain), qPrintable(name));
            const double extra = rc.step_time_us - plain.step_time_us;  // in forwards of a stage
            qInfo("%s: +%.2f forwards of a stage over m = %d", qPrintable(name), extra, m);
            QVERIFY2(extra >= 0.5 * m && extra <= m + p, qPrintable(name + QString(": +%1").arg(extra)));
        }
    }

    // Every schedule states its formula, or that it has none and is simulated; the ones
    // with a value match the simulation at uniform costs.
    void everyScheduleHasItsFormulaText() {
        for (int k = 0; k < int(ScheduleKind::NUM_SCHEDULES); ++k) {
            const auto kind = ScheduleKind(k);
            const int v = kind == ScheduleKind::Interleaved ? 2 : default_chunks(kind);
            const Stats st = compute_stats(run_uniform(kind, 4, 8, v, 1, 1, 1));
            const QString text = QString::fromStdString(st.bubble_formula_text);
            QVERIFY2(!text.isEmpty() && !text.contains("no closed form for ?"), qPrintable(text));
            if (st.bubble_formula)
                QVERIFY2(std::abs(*st.bubble_formula - st.bubble_fraction) < 1e-9, qPrintable(text));
            else
                QVERIFY2(text.contains("simulated"), qPrintable(text));
        }
        QVERIFY(compute_stats(run_uniform(ScheduleKind::ZBH1, 4, 8, 1, 1, 1, 1)).bubble_formula.has_value());
    }

    void peakInflightMicrobatches() {
        for (int p = 1; p <= 8; ++p)
            for (int m = 1; m <= 16; ++m) {
                const Stats g = compute_stats(run_uniform(ScheduleKind::GPipe, p, m, 1, 1, 1, 1));
                const Stats o = compute_stats(run_uniform(ScheduleKind::OneFOneB, p, m, 1, 1, 1, 1));
                for (int r = 0; r < p; ++r) {
                    QCOMPARE(g.ranks[r].peak_inflight_microbatches, m);
                    QCOMPARE(o.ranks[r].peak_inflight_microbatches, std::min(p - r, m));
                    // Activation memory follows: one layer per stage holds kAct per microbatch.
                    QCOMPARE(g.ranks[r].peak_activation_bytes, m * kAct);
                    QCOMPARE(o.ranks[r].peak_activation_bytes, std::min(p - r, m) * kAct);
                }
            }
    }

    // PRIMER table, p=4, m=8, v=2: 11, 9, 7, 5 chunk-microbatches.
    void interleavedInflightMatchesPrimer() {
        const Stats st = compute_stats(run_uniform(ScheduleKind::Interleaved, 4, 8, 2, 1, 1, 1));
        QCOMPARE(st.ranks[0].peak_inflight_microbatches, 11);
        QCOMPARE(st.ranks[1].peak_inflight_microbatches, 9);
        QCOMPARE(st.ranks[2].peak_inflight_microbatches, 7);
        QCOMPARE(st.ranks[3].peak_inflight_microbatches, 5);
    }

    void everyActionBecomesOneEvent() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 8, 1}, 4);
        const Timeline tl = simulate(s, balanced_partition({1, 1, 1, 1}, 4), uniform_cost_model(4, 1, 1, 1));
        QCOMPARE(tl.events.size(), s.action_count());
        // Per rank, events follow the schedule's order and never overlap.
        std::size_t k = 0;
        for (int r = 0; r < 4; ++r)
            for (std::size_t i = 0; i < s.ranks[r].size(); ++i, ++k) {
                const TimelineEvent& e = tl.events[k];
                QCOMPARE(e.rank, r);
                QCOMPARE((Action{e.kind, e.chunk, e.microbatch}), s.ranks[r][i]);
                if (i > 0) QVERIFY(e.start_us >= tl.events[k - 1].end_us);
            }
    }

    void communicationCostDelaysTheReceiver() {
        const Schedule s = make_schedule({ScheduleKind::GPipe, 2, 1, 1}, 2);
        CostModel cm = uniform_cost_model(2, 10, 10, 10);
        cm.message_bytes = 4000;
        cm.link = {5.0, 1000.0};  // 5 us + 4000 B / (1000 B/us) = 9 us per message
        const Timeline tl = simulate(s, balanced_partition({1, 1}, 2), cm);
        // rank 0: F [0,10], send at 10; rank 1: recv [0,19], F [19,29], B [29,49], send at 49;
        // rank 0: recv until 58, B [58,78].
        QCOMPARE(tl.step_time_us(), 78.0);
        const Stats st = compute_stats(tl);
        QCOMPARE(st.ranks[0].busy_us, 30.0);
        QCOMPARE(st.ranks[1].busy_us, 30.0);
    }

    void memoryStartsWithStaticState() {
        CostModel cm = uniform_cost_model(4, 1, 1, 1, 100);
        for (auto& l : cm.layers) l.param_bytes = 40;
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 2, 4, 1}, 4);
        const Timeline tl = simulate(s, balanced_partition({1, 1, 1, 1}, 2), cm);
        const MemorySample& first = tl.memory.front();
        QCOMPARE(first.rank, 0);
        QCOMPARE(first.params, std::int64_t(80));
        QCOMPARE(first.grads, std::int64_t(80));
        QCOMPARE(first.optimizer, std::int64_t(160));  // Adam: two copies
        QCOMPARE(first.activations, std::int64_t(0));
        // Every activation allocated is freed by the end of the step.
        for (int r = 0; r < 2; ++r) {
            std::int64_t last = -1;
            for (const auto& m : tl.memory)
                if (m.rank == r) last = m.activations;
            QCOMPARE(last, std::int64_t(0));
        }
    }

    void imbalancedStageSetsThePace() {
        // Last stage 3x slower: everyone waits for it, bubble exceeds the formula.
        CostModel cm = uniform_cost_model(4, 1, 1, 1);
        cm.layers[3] = {3, 3, 3, 0, 1};
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 4, 8, 1}, 4);
        const Stats st = compute_stats(simulate(s, balanced_partition({1, 1, 1, 1}, 4), cm));
        QVERIFY(st.bubble_fraction > *st.bubble_formula + 0.1);
        QVERIFY(st.ranks[3].bubble_fraction < st.ranks[0].bubble_fraction);
        QVERIFY(std::abs(st.imbalance - (9.0 * 8 / ((3 * 3.0 * 8 + 9.0 * 8) / 4) - 1)) < 1e-9);
    }

    void mismatchedInputsAreRefused() {
        const Schedule s = make_schedule({ScheduleKind::OneFOneB, 2, 2, 1}, 4);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 simulate(s, balanced_partition({1, 1, 1}, 3), uniform_cost_model(3, 1, 1, 1)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 simulate(s, balanced_partition({1, 1, 1}, 2), uniform_cost_model(4, 1, 1, 1)));
    }
};

QTEST_GUILESS_MAIN(TestSimulator)
#include "tst_simulator.moc"
