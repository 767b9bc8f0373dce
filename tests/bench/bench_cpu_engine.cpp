// CPU engine figures (prints, asserts nothing):
//   1. GEMM efficiency: useful model FLOP/s per rank over single-thread OpenBLAS sgemm
//      FLOP/s measured in the same run, for d_model 256, 512, 768.
//   2. Overhead: p=2 balanced stages, m=16: measured bubble minus the formula's value.
//   3. Per-action engine overhead: time inside an action but outside the maths, and
//      the gaps between consecutive actions of a rank.
//   usage: bench_cpu_engine [steps]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cblas.h>

#include "core/nn/cpu_backend.h"
#include "core/nn/ops.h"
#include "core/stats.h"

using namespace pipelab;
using namespace pipelab::nn;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Single-thread sgemm GFLOP/s at the model's dominant shape (BT, C) x (C, 4C).
double sgemm_gflops(int M, int N, int K) {
    std::vector<float> a(static_cast<std::size_t>(M) * K, 0.5f), b(static_cast<std::size_t>(K) * N, 0.25f),
        c(static_cast<std::size_t>(M) * N);
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = Clock::now();
        int n = 0;
        while (seconds_since(t0) < 0.2) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a.data(), K, b.data(), K, 0.0f,
                        c.data(), N);
            ++n;
        }
        best = std::max(best, 2.0 * M * N * K * n / seconds_since(t0) / 1e9);
    }
    return best;
}

RunConfig bench_config(int d_model, int p, int m) {
    RunConfig cfg;
    cfg.model = {256, d_model, d_model / 64, 2 * p, 4 * d_model, 128, 4};
    cfg.pipeline = {ScheduleKind::OneFOneB, p, m, 1, {}, false, {}};
    cfg.training.data = "synthetic";
    return cfg;
}

// Useful FLOPs of one step on each rank, from the analytic layer costs.
std::vector<double> rank_flops(const RunConfig& cfg, const Plan& plan) {
    std::vector<double> f(static_cast<std::size_t>(plan.schedule.n_ranks), 0.0);
    for (int c = 0; c < plan.partition.n_chunks(); ++c)
        for (int l = plan.partition.first_layer(c); l < plan.partition.end_layer(c); ++l) {
            const Layer& L = plan.layers[static_cast<std::size_t>(l)];
            f[static_cast<std::size_t>(plan.schedule.rank_of(c))] +=
                cfg.pipeline.microbatches * (L.fwd_flops + L.bwd_input_flops + L.bwd_weight_flops);
        }
    return f;
}

// Times the maths inside a stage so the executor's own cost can be separated out.
struct TimedStage : StageCompute {
    StageCompute& in;
    double inner_us = 0;
    explicit TimedStage(StageCompute& s) : in(s) {}
    template <typename F>
    auto timed(F f) {
        const auto t0 = Clock::now();
        struct Add {
            double& acc;
            Clock::time_point t0;
            ~Add() { acc += std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }
        } add{inner_us, t0};
        return f();
    }
    ChunkSizes buffers(int c) const override { return in.buffers(c); }
    std::int64_t param_bytes() const override { return in.param_bytes(); }
    std::int64_t grad_bytes() const override { return in.grad_bytes(); }
    std::int64_t optimizer_bytes() const override { return in.optimizer_bytes(); }
    void zero_grad() override { in.zero_grad(); }
    void forward(int c, int m, const float* x, std::byte* s, float* o) override {
        timed([&] { in.forward(c, m, x, s, o); });
    }
    void recompute(int c, int m, const float* x, std::byte* s) override {
        timed([&] { in.recompute(c, m, x, s); });
    }
    void backward_input(int c, int m, const float* d, std::byte* s, std::byte* p, float* dx) override {
        timed([&] { in.backward_input(c, m, d, s, p, dx); });
    }
    void backward_weight(int c, int m, const std::byte* s, const std::byte* p) override {
        timed([&] { in.backward_weight(c, m, s, p); });
    }
    double loss_sum() override { return in.loss_sum(); }
    void optimizer_step(int s) override { in.optimizer_step(s); }
};

}  // namespace

int main(int argc, char** argv) {
    const int steps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    nn_set_single_threaded_blas();
    std::printf("CPU engine benchmark (%d timed steps after one warm-up; best step reported)\n\n", steps);

    std::printf("1. GEMM efficiency, 1F1B p=2 m=8, B=4 T=128, 4 blocks, one BLAS thread per rank\n");
    std::printf("   d_model  sgemm GFLOP/s  rank0 GFLOP/s  rank1 GFLOP/s  efficiency\n");
    for (int C : {256, 512, 768}) {
        const double peak = sgemm_gflops(4 * 128, 4 * C, C);
        const RunConfig cfg = bench_config(C, 2, 8);
        const Plan plan = make_plan(cfg);
        CpuTrainer trainer(cfg, plan);
        trainer.step(1);
        const std::vector<double> flops = rank_flops(cfg, plan);
        std::vector<double> best(2, 0.0);
        for (int s = 0; s < steps; ++s) {
            const Stats st = compute_stats(trainer.step(s + 2).timeline);
            for (int r = 0; r < 2; ++r) best[r] = std::max(best[r], flops[r] / (st.ranks[r].busy_us * 1e-6) / 1e9);
        }
        std::printf("   %7d  %13.1f  %13.1f  %13.1f  %10.2f\n", C, peak, best[0], best[1],
                    (best[0] + best[1]) / 2 / peak);
    }

    std::printf("\n2. Overhead: 1F1B p=2 balanced, m=16, d_model 256\n");
    {
        const RunConfig cfg = bench_config(256, 2, 16);
        const Plan plan = make_plan(cfg);
        CpuTrainer trainer(cfg, plan);
        trainer.step(1);
        double best_gap = 1e9, bubble = 0, formula = 0;
        for (int s = 0; s < steps; ++s) {
            const Stats st = compute_stats(trainer.step(s + 2).timeline);
            if (st.bubble_fraction - *st.bubble_formula < best_gap) {
                best_gap = st.bubble_fraction - *st.bubble_formula;
                bubble = st.bubble_fraction;
                formula = *st.bubble_formula;
            }
        }
        std::printf("   bubble %.2f %% measured, %.2f %% formula: %+.2f percentage points\n", 100 * bubble,
                    100 * formula, 100 * best_gap);
    }

    std::printf("\n3. Per-action engine overhead: 1F1B p=2, m=16, d_model 128 (small maths)\n");
    {
        RunConfig cfg = bench_config(128, 2, 16);
        cfg.model.seq_len = 32;
        const Plan plan = make_plan(cfg);
        CpuTrainer trainer(cfg, plan);
        std::vector<std::unique_ptr<TimedStage>> timed;
        std::vector<StageCompute*> stages;
        for (int r = 0; r < 2; ++r) {
            timed.push_back(std::make_unique<TimedStage>(trainer.stage(r)));
            stages.push_back(timed.back().get());
        }
        execute_step(plan.schedule, stages, 1, {}, nullptr);
        double best_compute = 1e9, best_send = 1e9, best_gap = 1e9;
        for (int s = 0; s < steps; ++s) {
            for (auto& t : timed) t->inner_us = 0;
            const Timeline tl = execute_step(plan.schedule, stages, s + 2, {}, nullptr).timeline;
            double in_compute = 0, sends = 0, gaps = 0;
            int n_compute = 0, n_send = 0, n_gap = 0;
            for (std::size_t i = 0; i < tl.events.size(); ++i) {
                const TimelineEvent& e = tl.events[i];
                if (is_compute(e.kind)) {
                    in_compute += e.duration_us();
                    ++n_compute;
                } else if (e.kind == ActionKind::SEND_F || e.kind == ActionKind::SEND_B) {
                    sends += e.duration_us();
                    ++n_send;
                }
                if (i > 0 && tl.events[i - 1].rank == e.rank) {
                    gaps += e.start_us - tl.events[i - 1].end_us;
                    ++n_gap;
                }
            }
            const double inner = timed[0]->inner_us + timed[1]->inner_us;
            best_compute = std::min(best_compute, (in_compute - inner) / n_compute);
            best_send = std::min(best_send, sends / n_send);
            best_gap = std::min(best_gap, gaps / n_gap);
        }
        std::printf("   inside a compute action, outside the maths: %.2f us (buffer alloc + accounting)\n",
                    best_compute);
        std::printf("   one send (copy of a (B,T,C) = %lld-byte buffer): %.2f us\n",
                    static_cast<long long>(cfg.model.microbatch_size) * cfg.model.seq_len * cfg.model.d_model * 4,
                    best_send);
        std::printf("   gap between consecutive actions of a rank: %.2f us\n", best_gap);
    }
    return 0;
}
