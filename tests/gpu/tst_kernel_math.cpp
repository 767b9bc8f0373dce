// The CUDA kernels' maths on the host: every PIPELAB_HD function of gpu/kernels, the GEMM
// argument mapping of gpu/gemm_plan.h and the layer orchestration of gpu/gpt_layer_math.h,
// run through HostOps (host_ops.h) and compared with core/nn, the CPU engine the GPU must
// match. Prints the max difference of every comparison; the tolerance is fixed.
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab,
// N = B*T rows.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/gpt_tensors.h"
#include "core/nn/adamw.h"
#include "core/nn/gpt_layer.h"
#include "core/nn/ops.h"
#include "gpu/gpt_layer_math.h"
#include "gpu/kernels/adamw_math.h"
#include "host_ops.h"

using namespace pipelab;
using pipelab::gpu::HostOps;
using Vec = std::vector<float>;

namespace {

struct TestRng {  // splitmix64, test data only
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>((next() >> 40) * 0x1.0p-24); }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

Vec random_vec(std::size_t n, TestRng& rng, float lo = -1.0f, float hi = 1.0f) {
    Vec v(n);
    for (float& x : v) x = rng.uniform(lo, hi);
    return v;
}
std::vector<int> random_ids(std::size_t n, int V, TestRng& rng) {
    std::vector<int> v(n);
    for (int& x : v) x = rng.below(V);
    return v;
}
Vec buffer(std::int64_t n_bytes) { return Vec(static_cast<std::size_t>(n_bytes / 4)); }
std::byte* bytes(Vec& v) { return reinterpret_cast<std::byte*>(v.data()); }

// Normwise relative difference: max |got - want| / max |want|. Prints it; false when over tol.
bool close(const char* what, const float* got, const float* want, std::int64_t n, double tol) {
    double max_diff = 0, max_ref = 0;
    std::int64_t at = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
        if (!(d <= max_diff)) {  // NaN counts as the worst
            max_diff = std::isnan(d) ? INFINITY : d;
            at = i;
        }
        max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
    }
    const double rel = max_diff / std::max(max_ref, 1e-30);
    qInfo("%-34s max abs diff %.3g (at %lld), max |ref| %.3g, relative %.3g (tol %.0e)", what, max_diff,
          static_cast<long long>(at), max_ref, rel, tol);
    return rel <= tol;
}
bool close(const char* what, const Vec& got, const Vec& want, double tol) {
    if (got.size() != want.size()) return false;
    return close(what, got.data(), want.data(), static_cast<std::int64_t>(want.size()), tol);
}

constexpr double kOpTol = 1e-6;     // same formula, same order: only libm/rounding may differ
constexpr double kLayerTol = 1e-5;  // plus a naive GEMM's summation order against OpenBLAS'
// bf16 operands (8-bit mantissa, unit roundoff 2^-9 = 2e-3), fp32 accumulation: each layer
// below lands at 2e-3 .. 4e-3 normwise (one rounding per operand, relative to the largest
// element); the bound leaves room for a whole model's layers compounding.
constexpr double kBf16Tol = 5e-2;

// Tiny dims: hs = 4, so attention's strided batches over heads are exercised.
GptDims tiny() { return {2, 8, 16, 4, 32, 24, 2}; }

}  // namespace

class TestKernelMath : public QObject {
    Q_OBJECT
private slots:
    void encoder() {
        const int B = 2, T = 5, C = 6, V = 7;
        TestRng rng{1};
        const Vec wte = random_vec(V * C, rng), wpe = random_vec(T * C, rng), dout = random_vec(B * T * C, rng);
        const std::vector<int> tok = random_ids(B * T, V, rng);
        Vec out_cpu(B * T * C), out_gpu(B * T * C);
        nn::encoder_forward(out_cpu.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
        HostOps ops;
        ops.encoder_forward(out_gpu.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
        QVERIFY(close("encoder forward", out_gpu, out_cpu, kOpTol));
        Vec dwte_c = random_vec(V * C, rng), dwpe_c = random_vec(T * C, rng);  // += onto existing values
        Vec dwte_g = dwte_c, dwpe_g = dwpe_c;
        nn::encoder_backward(dwte_c.data(), dwpe_c.data(), dout.data(), tok.data(), B, T, C);
        ops.encoder_backward(dwte_g.data(), dwpe_g.data(), dout.data(), tok.data(), B, T, C);
        QVERIFY(close("encoder backward dwte", dwte_g, dwte_c, kOpTol));
        QVERIFY(close("encoder backward dwpe", dwpe_g, dwpe_c, kOpTol));
    }

    void layernorm() {
        const int N = 6, C = 37;
        TestRng rng{2};
        const Vec x = random_vec(N * C, rng, -3, 3), w = random_vec(C, rng), b = random_vec(C, rng);
        const Vec dout = random_vec(N * C, rng);
        Vec out_c(N * C), mean_c(N), rstd_c(N), out_g(N * C), mean_g(N), rstd_g(N);
        nn::layernorm_forward(out_c.data(), mean_c.data(), rstd_c.data(), x.data(), w.data(), b.data(), 1, N, C);
        HostOps ops;
        ops.layernorm_forward(out_g.data(), mean_g.data(), rstd_g.data(), x.data(), w.data(), b.data(), N, C);
        QVERIFY(close("layernorm forward", out_g, out_c, kOpTol));
        QVERIFY(close("layernorm mean", mean_g, mean_c, kOpTol));
        QVERIFY(close("layernorm rstd", rstd_g, rstd_c, kOpTol));
        Vec dx_c = random_vec(N * C, rng), dx_g = dx_c;
        nn::layernorm_backward_input(dx_c.data(), dout.data(), x.data(), w.data(), mean_c.data(), rstd_c.data(), 1, N,
                                     C);
        ops.layernorm_backward_input(dx_g.data(), dout.data(), x.data(), w.data(), mean_c.data(), rstd_c.data(), N, C);
        QVERIFY(close("layernorm backward input (I)", dx_g, dx_c, kOpTol));
        Vec dw_c = random_vec(C, rng), db_c = random_vec(C, rng), dw_g = dw_c, db_g = db_c;
        nn::layernorm_backward_weight(dw_c.data(), db_c.data(), dout.data(), x.data(), mean_c.data(), rstd_c.data(), 1,
                                      N, C);
        ops.layernorm_backward_weight(dw_g.data(), db_g.data(), dout.data(), x.data(), mean_c.data(), rstd_c.data(), N,
                                      C);
        QVERIFY(close("layernorm backward weight (W) dw", dw_g, dw_c, kOpTol));
        QVERIFY(close("layernorm backward weight (W) db", db_g, db_c, kOpTol));
    }

    // The linear's three GEMMs (no transpose, B transposed, A transposed) and the bias.
    void matmul() {
        const int N = 10, C = 7, OC = 5;
        TestRng rng{3};
        const Vec x = random_vec(N * C, rng), w = random_vec(OC * C, rng), bias = random_vec(OC, rng);
        const Vec dout = random_vec(N * OC, rng);
        HostOps ops;
        for (const bool with_bias : {true, false}) {
            Vec out_c(N * OC), out_g(N * OC, NAN);  // NaN: beta 0 must not read C
            nn::matmul_forward(out_c.data(), x.data(), w.data(), with_bias ? bias.data() : nullptr, 1, N, C, OC);
            gpu::matmul_forward(ops, out_g.data(), x.data(), w.data(), with_bias ? bias.data() : nullptr, N, C, OC);
            QVERIFY(close(with_bias ? "matmul forward + bias" : "matmul forward", out_g, out_c, kLayerTol));
        }
        Vec dx_c = random_vec(N * C, rng), dx_g = dx_c;
        nn::matmul_backward_input(dx_c.data(), dout.data(), w.data(), 1, N, C, OC);
        gpu::matmul_backward_input(ops, dx_g.data(), dout.data(), w.data(), N, C, OC);
        QVERIFY(close("matmul backward input (I)", dx_g, dx_c, kLayerTol));
        Vec dw_c = random_vec(OC * C, rng), db_c = random_vec(OC, rng), dw_g = dw_c, db_g = db_c;
        nn::matmul_backward_weight(dw_c.data(), db_c.data(), dout.data(), x.data(), 1, N, C, OC);
        gpu::matmul_backward_weight(ops, dw_g.data(), db_g.data(), dout.data(), x.data(), N, C, OC);
        QVERIFY(close("matmul backward weight (W) dW", dw_g, dw_c, kLayerTol));
        QVERIFY(close("matmul backward weight (W) dbias", db_g, db_c, kOpTol));
    }

    // Strided batches over heads (stride hs inside the (B, T, 3C) qkv), the causal softmax
    // and its backward, against core/nn's per-head loops.
    void attention() {
        const int B = 2, T = 7, C = 12, NH = 3;
        TestRng rng{4};
        const Vec qkv = random_vec(B * T * 3 * C, rng, -2, 2), dout = random_vec(B * T * C, rng);
        Vec out_c(B * T * C), att_c(B * NH * T * T), out_g(B * T * C), att_g(B * NH * T * T);
        nn::attention_forward(out_c.data(), att_c.data(), qkv.data(), B, T, C, NH);
        HostOps ops;
        gpu::attention_forward(ops, out_g.data(), att_g.data(), qkv.data(), B, T, C, NH);
        QVERIFY(close("attention forward out", out_g, out_c, kLayerTol));
        QVERIFY(close("attention forward att", att_g, att_c, kLayerTol));
        Vec d_c = random_vec(B * T * 3 * C, rng), d_g = d_c, scratch_c(T * T), scratch_g(NH * T * T);
        nn::attention_backward(d_c.data(), scratch_c.data(), dout.data(), qkv.data(), att_c.data(), B, T, C, NH);
        gpu::attention_backward(ops, d_g.data(), scratch_g.data(), dout.data(), qkv.data(), att_c.data(), B, T, C, NH);
        QVERIFY(close("attention backward dqkv", d_g, d_c, kLayerTol));
    }

    void gelu_residual() {
        const int N = 4001;
        TestRng rng{5};
        Vec x = random_vec(N, rng, -6, 6);
        x[0] = 60.0f, x[1] = -60.0f;  // exp overflows: t stays in [0, 1]
        const Vec y = random_vec(N, rng), dout = random_vec(N, rng);
        Vec out_c(N), out_g(N);
        nn::gelu_forward(out_c.data(), x.data(), N);
        HostOps ops;
        ops.gelu_forward(out_g.data(), x.data(), N);
        QVERIFY(close("gelu forward", out_g, out_c, kOpTol));
        Vec dx_c = random_vec(N, rng), dx_g = dx_c;
        nn::gelu_backward(dx_c.data(), x.data(), dout.data(), N);
        ops.gelu_backward(dx_g.data(), x.data(), dout.data(), N);
        QVERIFY(close("gelu backward", dx_g, dx_c, kOpTol));
        nn::residual_forward(out_c.data(), x.data(), y.data(), N);
        ops.residual_forward(out_g.data(), x.data(), y.data(), N);
        QVERIFY(close("residual forward", out_g, out_c, 0.0));
        Vec d1_c = random_vec(N, rng), d2_c = random_vec(N, rng), d1_g = d1_c, d2_g = d2_c;
        nn::residual_backward(d1_c.data(), d2_c.data(), dout.data(), N);
        ops.residual_backward(d1_g.data(), d2_g.data(), dout.data(), N);
        QVERIFY(close("residual backward 1", d1_g, d1_c, 0.0));
        QVERIFY(close("residual backward 2", d2_g, d2_c, 0.0));
    }

    void crossentropy() {
        const int N = 6, V = 53;
        TestRng rng{6};
        const Vec logits = random_vec(N * V, rng, -8, 8);
        const std::vector<int> tgt = random_ids(N, V, rng);
        Vec probs_c(N * V), loss_c(N), probs_g = logits, loss_g(N);  // GPU in place, as the head runs it
        nn::crossentropy_softmax_forward(probs_c.data(), loss_c.data(), logits.data(), tgt.data(), 1, N, V);
        HostOps ops;
        ops.crossentropy_forward(probs_g.data(), loss_g.data(), probs_g.data(), tgt.data(), N, V);
        QVERIFY(close("crossentropy forward probs", probs_g, probs_c, kOpTol));
        QVERIFY(close("crossentropy forward losses", loss_g, loss_c, kOpTol));
        Vec d_c = random_vec(N * V, rng), d_g = d_c;
        nn::crossentropy_softmax_backward(d_c.data(), probs_c.data(), tgt.data(), 0.25f, 1, N, V);
        ops.crossentropy_backward(d_g.data(), probs_c.data(), tgt.data(), 0.25f, N, V);
        QVERIFY(close("crossentropy backward", d_g, d_c, kOpTol));
        ops.add_mean_loss(loss_g.data(), N);
        double want = 0;
        for (float l : loss_c) want += l;
        QVERIFY(std::fabs(ops.loss_sum - static_cast<float>(want / N)) <= 1e-6 * std::fabs(want / N));
    }

    // AdamW after the CPU stage's 1/m scaling of the summed gradients, over a few steps.
    void adamw() {
        const int N = 1000, m = 4;
        TestRng rng{7};
        Vec p_c = random_vec(N, rng), p_g = p_c, m_c(N), v_c(N), m_g(N), v_g(N);
        nn::AdamWConfig cfg;
        cfg.lr = 1e-2f;
        cfg.weight_decay = 0.1f;
        for (int t = 1; t <= 3; ++t) {
            Vec g_c = random_vec(N, rng), g_g = g_c;
            for (float& g : g_c) g *= 1.0f / static_cast<float>(m);
            nn::adamw_step(p_c.data(), g_c.data(), m_c.data(), v_c.data(), N, cfg, t);
            const gpu::AdamWStep a{cfg.lr,
                                   cfg.beta1,
                                   cfg.beta2,
                                   cfg.eps,
                                   cfg.weight_decay,
                                   1.0f - std::pow(cfg.beta1, static_cast<float>(t)),
                                   1.0f - std::pow(cfg.beta2, static_cast<float>(t)),
                                   1.0f / static_cast<float>(m)};
            for (int i = 0; i < N; ++i) gpu::adamw_at(p_g.data(), g_g.data(), m_g.data(), v_g.data(), a, i);
            QVERIFY(close("adamw scaled grads", g_g, g_c, 0.0));
        }
        QVERIFY(close("adamw params after 3 steps", p_g, p_c, kOpTol));
        QVERIFY(close("adamw first moment", m_g, m_c, kOpTol));
        QVERIFY(close("adamw second moment", v_g, v_c, kOpTol));
    }

    void finite_and_bf16() {
        QVERIFY(gpu::finite_value(1.0f));
        QVERIFY(!gpu::finite_value(NAN));
        QVERIFY(!gpu::finite_value(INFINITY));
        QCOMPARE(gpu::round_to_bf16(1.0f), 1.0f);
        QCOMPARE(gpu::round_to_bf16(1.0f + 0x1.0p-9f), 1.0f);              // a tie rounds to even
        QCOMPARE(gpu::round_to_bf16(1.0f + 0x1.8p-8f), 1.0f + 0x1.0p-7f);  // above half rounds up
        QVERIFY(std::isnan(gpu::round_to_bf16(NAN)));
    }

    void gemm_shapes_are_checked() {
        gpu::GemmRM g;
        float a[4] = {}, b[4] = {}, c[4] = {};
        g.M = g.N = g.K = 2;
        g.A = a, g.B = b, g.C = c;
        g.lda = 1, g.ldb = 2, g.ldc = 2;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gpu::check_gemm(g, "test"));
        g.lda = 2;
        gpu::check_gemm(g, "test");
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gpu::gemm_dim(std::int64_t{1} << 33, "test"));
    }

    // Every layer kind: forward, I and W through gpt_layer_math.h with HostOps against
    // core/nn's GptLayer, every saved, pending and gradient tensor compared by name.
    void layers_data() {
        QTest::addColumn<int>("kind_i");
        QTest::addColumn<bool>("bf16");
        QTest::newRow("embedding") << int(LayerKind::Embedding) << false;
        QTest::newRow("block") << int(LayerKind::Block) << false;
        QTest::newRow("head") << int(LayerKind::Head) << false;
        QTest::newRow("block bf16") << int(LayerKind::Block) << true;
        QTest::newRow("head bf16") << int(LayerKind::Head) << true;
    }
    void layers() {
        QFETCH(int, kind_i);
        QFETCH(bool, bf16);
        const auto kind = static_cast<LayerKind>(kind_i);
        const GptDims d = tiny();
        const double tol = bf16 ? kBf16Tol : kLayerTol;
        const nn::GptLayer cpu(kind, kind == LayerKind::Block ? 1 : (kind == LayerKind::Head ? d.L + 1 : 0), d);
        const std::int64_t NC = std::int64_t{d.B} * d.T * d.C;
        TestRng rng{8};
        Vec params(static_cast<std::size_t>(cpu.param_count()));
        cpu.init_params(params.data(), 99);
        // Inputs large enough that LayerNorm, GELU and the softmaxes leave their flat parts.
        const Vec x = random_vec(NC, rng, -2, 2), dout = random_vec(NC, rng, -0.5, 0.5);
        const std::vector<int> tok = random_ids(d.B * d.T, d.V, rng), tgt = random_ids(d.B * d.T, d.V, rng);

        Vec acts_c = buffer(cpu.activation_bytes()), acts_g = acts_c;
        Vec out_c(NC), out_g(NC);
        const float loss_c =
            cpu.forward(params.data(), {x.data(), tok.data(), tgt.data()}, out_c.data(), bytes(acts_c));
        HostOps ops;
        ops.bf16 = bf16;
        gpu::layer_forward(ops, kind, d, params.data(), {x.data(), tok.data(), tgt.data()}, out_g.data(), bytes(acts_g),
                           true);
        if (kind == LayerKind::Head) {
            QVERIFY(close("head loss", std::vector<float>{static_cast<float>(ops.loss_sum)}, Vec{loss_c}, tol));
        } else {
            QVERIFY(close("forward output", out_g, out_c, tol));
        }
        const auto views_c = layer_views(kind, Buffer::Acts, d, acts_c.data());
        const auto views_g = layer_views(kind, Buffer::Acts, d, acts_g.data());
        for (std::size_t i = 0; i < views_c.size(); ++i) {
            if (views_c[i].i32) continue;  // token ids: copied
            QVERIFY2(close(views_c[i].name, views_g[i].f32, views_c[i].f32, views_c[i].count, tol), views_c[i].name);
        }

        // I and W from the same (CPU) saved activations, so each half is compared alone.
        Vec pend_c = buffer(cpu.pending_bytes()), pend_g = pend_c;
        Vec scr_c = buffer(cpu.scratch_bytes() + 4), scr_g = buffer(gpu::gpu_layer_scratch_bytes(kind, d) + 4);
        Vec dinp_c(NC), dinp_g(NC);
        cpu.backward_input(params.data(), dout.data(), bytes(acts_c), bytes(pend_c), bytes(scr_c), dinp_c.data());
        gpu::layer_backward_input(ops, kind, d, params.data(), dout.data(), bytes(acts_c), bytes(pend_g), bytes(scr_g),
                                  dinp_g.data());
        if (kind != LayerKind::Embedding) QVERIFY(close("I: dinp", dinp_g, dinp_c, tol));
        const auto pv_c = layer_views(kind, Buffer::Pending, d, pend_c.data());
        const auto pv_g = layer_views(kind, Buffer::Pending, d, pend_g.data());
        for (std::size_t i = 0; i < pv_c.size(); ++i)
            QVERIFY2(close(pv_c[i].name, pv_g[i].f32, pv_c[i].f32, pv_c[i].count, tol), pv_c[i].name);

        Vec grads_c(params.size()), grads_g(params.size());
        cpu.backward_weight(grads_c.data(), bytes(acts_c), bytes(pend_c));
        gpu::layer_backward_weight(ops, kind, d, grads_g.data(), bytes(acts_c), bytes(pend_c));
        const auto gv_c = layer_views(kind, Buffer::Params, d, grads_c.data());
        const auto gv_g = layer_views(kind, Buffer::Params, d, grads_g.data());
        for (std::size_t i = 0; i < gv_c.size(); ++i)
            QVERIFY2(close(gv_c[i].name, gv_g[i].f32, gv_c[i].f32, gv_c[i].count, tol), gv_c[i].name);
    }
};

QTEST_GUILESS_MAIN(TestKernelMath)
#include "tst_kernel_math.moc"
