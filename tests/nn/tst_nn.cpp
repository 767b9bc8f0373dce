// core/nn: gradient checks of every op, I/W split of every layer kind, a whole tiny model,
// AdamW, and a comparison against a PyTorch (float64) fixture.
// Letters: B microbatch size, T sequence length, C d_model, NH heads, F d_ff, V vocab.
#include <QtTest>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/nn/adamw.h"
#include "core/nn/gpt_layer.h"
#include "core/nn/ops.h"

using namespace pipelab;
using namespace pipelab::nn;
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
double dot(const Vec& a, const Vec& b) {  // sum(a * b) in double
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}
std::byte* bytes(Vec& v) { return reinterpret_cast<std::byte*>(v.data()); }
Vec buffer(std::int64_t n_bytes) { return Vec(static_cast<std::size_t>(n_bytes / 4)); }

// Central differences of loss() at a few elements of x against the analytic gradient g.
// Pass: |fd - g| <= rtol * max(|fd|, |g|) + atol. Returns false and describes the worst.
struct FdReport {
    double max_abs = 0, worst_ratio = 0;  // worst_ratio > 1 fails
    QString worst;
    int checked = 0;
    int significant = 0;  // checks whose gradient is > 10 atol: the ones atol cannot hide
};
void fd_check(const char* name, Vec& x, const Vec& g, const std::function<double()>& loss, std::vector<std::size_t> idx,
              FdReport& rep, double rtol, double atol, float eps = 1e-3f) {
    for (std::size_t i : idx) {
        const float orig = x[i];
        x[i] = orig + eps;
        const double lp = loss();
        x[i] = orig - eps;
        const double lm = loss();
        x[i] = orig;
        const double fd = (lp - lm) / (2.0 * static_cast<double>(eps));
        const double diff = std::fabs(fd - g[i]);
        const double ratio = diff / (rtol * std::max(std::fabs(fd), std::fabs(double{g[i]})) + atol);
        rep.max_abs = std::max(rep.max_abs, diff);
        ++rep.checked;
        if (std::max(std::fabs(fd), std::fabs(double{g[i]})) > 10 * atol) ++rep.significant;
        if (ratio > rep.worst_ratio) {
            rep.worst_ratio = ratio;
            rep.worst = QString("%1[%2]: analytic %3 vs finite-difference %4 (|diff| %5)")
                            .arg(name)
                            .arg(i)
                            .arg(double{g[i]}, 0, 'g', 8)
                            .arg(fd, 0, 'g', 8)
                            .arg(diff, 0, 'g', 3);
        }
    }
}
std::vector<std::size_t> sample(std::size_t n, int k, TestRng& rng) {
    std::vector<std::size_t> idx;
    for (int j = 0; j < k; ++j) idx.push_back(static_cast<std::size_t>(rng.below(static_cast<int>(n))));
    return idx;
}

// llm.c's loop attention, the reference for the sgemm version.
void attention_forward_loops(float* out, float* att, const float* inp, int B, int T, int C, int NH) {
    const int hs = C / NH;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t)
            for (int h = 0; h < NH; ++h) {
                const float* q = inp + (b * T + t) * 3 * C + h * hs;
                float* a = att + ((b * NH + h) * T + t) * T;
                float maxv = -1e30f;
                for (int j = 0; j <= t; ++j) {
                    const float* k = inp + (b * T + j) * 3 * C + h * hs + C;
                    float v = 0;
                    for (int i = 0; i < hs; ++i) v += q[i] * k[i];
                    a[j] = v * scale;
                    maxv = std::max(maxv, a[j]);
                }
                float sum = 0;
                for (int j = 0; j <= t; ++j) sum += (a[j] = std::exp(a[j] - maxv));
                for (int j = 0; j < T; ++j) a[j] = j <= t ? a[j] / sum : 0.0f;
                float* o = out + (b * T + t) * C + h * hs;
                for (int i = 0; i < hs; ++i) o[i] = 0;
                for (int j = 0; j <= t; ++j) {
                    const float* v = inp + (b * T + j) * 3 * C + h * hs + 2 * C;
                    for (int i = 0; i < hs; ++i) o[i] += a[j] * v[i];
                }
            }
}

ModelConfig tiny_config() {
    ModelConfig c;
    c.vocab = 32;
    c.d_model = 16;
    c.heads = 2;
    c.layers = 2;
    c.d_ff = 64;
    c.seq_len = 8;
    c.microbatch_size = 2;
    return c;
}

// The whole model chained by hand: one buffer of each kind per layer, one microbatch.
struct Model {
    std::vector<GptLayer> layers;
    std::vector<Vec> params, grads, acts, pend, outs, dins;
    Vec scratch;
    std::vector<int> tokens, targets;
    Model(const ModelConfig& cfg, std::uint64_t seed) : layers(GptLayer::build(cfg)) {
        const GptDims d = layers[0].dims();
        std::int64_t scratch_bytes = 0;
        for (const GptLayer& l : layers) {
            params.emplace_back(static_cast<std::size_t>(l.param_count()));
            grads.emplace_back(params.back().size());
            acts.push_back(buffer(l.activation_bytes()));
            pend.push_back(buffer(l.pending_bytes()));
            outs.emplace_back(static_cast<std::size_t>(d.B * d.T * d.C));
            dins.emplace_back(outs.back().size());
            scratch_bytes = std::max(scratch_bytes, l.scratch_bytes());
            l.init_params(params.back().data(), seed);
        }
        scratch = buffer(scratch_bytes);
    }
    double forward() {
        double loss = 0;
        for (std::size_t l = 0; l < layers.size(); ++l) {
            const LayerInput in{l > 0 ? outs[l - 1].data() : nullptr, tokens.data(), targets.data()};
            loss = layers[l].forward(params[l].data(), in, outs[l].data(), bytes(acts[l]));
        }
        return loss;
    }
    void backward() {
        for (std::size_t l = layers.size(); l-- > 0;) {
            std::fill(grads[l].begin(), grads[l].end(), 0.0f);
            const float* dout = l + 1 < layers.size() ? dins[l + 1].data() : nullptr;
            layers[l].backward(params[l].data(), grads[l].data(), dout, bytes(acts[l]), bytes(pend[l]), bytes(scratch),
                               dins[l].data());
        }
    }
};

double max_abs_diff(const Vec& a, const Vec& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double{a[i]} - b[i]));
    return m;
}

}  // namespace

class TestNn : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { nn_set_single_threaded_blas(); }
    void opGradients_data();
    void opGradients();
    void attentionMatchesLoops_data();
    void attentionMatchesLoops();
    void layerSizesMatchModel_data();
    void layerSizesMatchModel();
    void splitEqualsFullBackward_data();
    void splitEqualsFullBackward();
    void wholeModel();
    void adamw();
    void pytorchFixture();
};

void TestNn::opGradients_data() {
    QTest::addColumn<QString>("op");
    for (const char* op : {"encoder", "layernorm", "layernorm_split", "matmul", "matmul_nobias", "attention", "gelu",
                           "residual", "crossentropy"})
        QTest::newRow(op) << QString(op);
}

// Each op: loss = sum(out * R) for a fixed random R (so dout = R), analytic gradients from
// the backward, finite differences on random elements of every input.
void TestNn::opGradients() {
    QFETCH(QString, op);
    TestRng rng{42};
    const int B = 2, T = 5, C = 8, OC = 6, NH = 2, V = 7;
    const std::size_t BT = B * T, BTC = BT * C;
    FdReport rep;
    const double rtol = 1e-2, atol = 1e-3;  // fp32 forward, eps 1e-3: noise ~1e-4 absolute
    if (op == "encoder") {
        Vec wte = random_vec(V * C, rng), wpe = random_vec(T * C, rng), out(BTC), R = random_vec(BTC, rng);
        const auto tok = random_ids(BT, V, rng);
        Vec dwte(wte.size()), dwpe(wpe.size());
        encoder_backward(dwte.data(), dwpe.data(), R.data(), tok.data(), B, T, C);
        auto loss = [&] {
            encoder_forward(out.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
            return dot(out, R);
        };
        fd_check("dwte", wte, dwte, loss, sample(wte.size(), 12, rng), rep, rtol, atol);
        fd_check("dwpe", wpe, dwpe, loss, sample(wpe.size(), 12, rng), rep, rtol, atol);
    } else if (op.startsWith("layernorm")) {
        Vec x = random_vec(BTC, rng, -2, 2), w = random_vec(C, rng, 0.5f, 1.5f), b = random_vec(C, rng);
        Vec out(BTC), mean(BT), rstd(BT), R = random_vec(BTC, rng);
        auto loss = [&] {
            layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), B, T, C);
            return dot(out, R);
        };
        loss();
        Vec dx(BTC), dw(C), db(C);
        if (op == "layernorm") {
            layernorm_backward(dx.data(), dw.data(), db.data(), R.data(), x.data(), w.data(), mean.data(), rstd.data(),
                               B, T, C);
        } else {
            layernorm_backward_input(dx.data(), R.data(), x.data(), w.data(), mean.data(), rstd.data(), B, T, C);
            layernorm_backward_weight(dw.data(), db.data(), R.data(), x.data(), mean.data(), rstd.data(), B, T, C);
        }
        fd_check("dinp", x, dx, loss, sample(BTC, 16, rng), rep, rtol, atol);
        fd_check("dweight", w, dw, loss, sample(C, 6, rng), rep, rtol, atol);
        fd_check("dbias", b, db, loss, sample(C, 6, rng), rep, rtol, atol);
    } else if (op.startsWith("matmul")) {
        const bool has_bias = op == "matmul";
        Vec x = random_vec(BTC, rng), W = random_vec(OC * C, rng), bias = random_vec(OC, rng);
        Vec out(BT * OC), R = random_vec(BT * OC, rng);
        Vec dx(BTC), dW(W.size()), db(OC);
        matmul_backward(dx.data(), dW.data(), has_bias ? db.data() : nullptr, R.data(), x.data(), W.data(), B, T, C,
                        OC);
        auto loss = [&] {
            matmul_forward(out.data(), x.data(), W.data(), has_bias ? bias.data() : nullptr, B, T, C, OC);
            return dot(out, R);
        };
        fd_check("dinp", x, dx, loss, sample(BTC, 12, rng), rep, rtol, atol);
        fd_check("dweight", W, dW, loss, sample(W.size(), 12, rng), rep, rtol, atol);
        if (has_bias) fd_check("dbias", bias, db, loss, sample(OC, 4, rng), rep, rtol, atol);
    } else if (op == "attention") {
        Vec x = random_vec(BT * 3 * C, rng, -2, 2), out(BTC), att(B * NH * T * T), R = random_vec(BTC, rng);
        Vec scratch(T * T), dx(x.size());
        auto loss = [&] {
            attention_forward(out.data(), att.data(), x.data(), B, T, C, NH);
            return dot(out, R);
        };
        loss();
        attention_backward(dx.data(), scratch.data(), R.data(), x.data(), att.data(), B, T, C, NH);
        fd_check("dqkv", x, dx, loss, sample(x.size(), 40, rng), rep, rtol, atol);
    } else if (op == "gelu") {
        Vec x = random_vec(BTC, rng, -4, 4), out(BTC), R = random_vec(BTC, rng), dx(BTC);
        gelu_backward(dx.data(), x.data(), R.data(), static_cast<long long>(BTC));
        auto loss = [&] {
            gelu_forward(out.data(), x.data(), static_cast<long long>(BTC));
            return dot(out, R);
        };
        fd_check("dinp", x, dx, loss, sample(BTC, 20, rng), rep, rtol, atol);
    } else if (op == "residual") {
        Vec a = random_vec(BTC, rng), b = random_vec(BTC, rng), out(BTC), R = random_vec(BTC, rng);
        Vec da(BTC), dbv(BTC);
        residual_backward(da.data(), dbv.data(), R.data(), static_cast<long long>(BTC));
        auto loss = [&] {
            residual_forward(out.data(), a.data(), b.data(), static_cast<long long>(BTC));
            return dot(out, R);
        };
        fd_check("dinp1", a, da, loss, sample(BTC, 8, rng), rep, rtol, atol);
        fd_check("dinp2", b, dbv, loss, sample(BTC, 8, rng), rep, rtol, atol);
    } else if (op == "crossentropy") {
        Vec logits = random_vec(BT * V, rng, -3, 3), probs(logits.size()), losses(BT), dl(logits.size());
        const auto tgt = random_ids(BT, V, rng);
        const float dloss = 0.7f;
        auto loss = [&] {
            crossentropy_softmax_forward(probs.data(), losses.data(), logits.data(), tgt.data(), B, T, V);
            double s = 0;
            for (float l : losses) s += dloss * double{l};
            return s;
        };
        loss();
        crossentropy_softmax_backward(dl.data(), probs.data(), tgt.data(), dloss, B, T, V);
        fd_check("dlogits", logits, dl, loss, sample(logits.size(), 30, rng), rep, rtol, atol);
    }
    qInfo("%s: %d elements (%d > 10 atol), max |fd - analytic| %.3g, worst ratio to tolerance %.3g", qPrintable(op),
          rep.checked, rep.significant, rep.max_abs, rep.worst_ratio);
    QVERIFY2(rep.checked > 0, "nothing checked");
    QVERIFY2(rep.worst_ratio <= 1.0, qPrintable(rep.worst));
}

void TestNn::attentionMatchesLoops_data() {
    QTest::addColumn<int>("B");
    QTest::addColumn<int>("T");
    QTest::addColumn<int>("C");
    QTest::addColumn<int>("NH");
    QTest::newRow("tiny") << 1 << 1 << 4 << 1;
    QTest::newRow("small") << 2 << 7 << 12 << 3;
    QTest::newRow("medium") << 2 << 64 << 64 << 4;
}

void TestNn::attentionMatchesLoops() {
    QFETCH(int, B);
    QFETCH(int, T);
    QFETCH(int, C);
    QFETCH(int, NH);
    TestRng rng{7};
    const Vec x = random_vec(static_cast<std::size_t>(B * T * 3 * C), rng, -2, 2);
    Vec out(B * T * C), att(B * NH * T * T), out_ref(out.size()), att_ref(att.size());
    attention_forward(out.data(), att.data(), x.data(), B, T, C, NH);
    attention_forward_loops(out_ref.data(), att_ref.data(), x.data(), B, T, C, NH);
    const double d_out = max_abs_diff(out, out_ref), d_att = max_abs_diff(att, att_ref);
    qInfo("max |diff| out %.3g att %.3g", d_out, d_att);
    QVERIFY2(d_out < 1e-5 && d_att < 1e-5, "sgemm attention differs from the loop reference");
}

void TestNn::layerSizesMatchModel_data() {
    QTest::addColumn<int>("layers");
    QTest::addColumn<int>("d_model");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("seq_len");
    QTest::addColumn<int>("mb");
    QTest::newRow("default") << 8 << 128 << 4 << 64 << 4;
    QTest::newRow("tiny") << 2 << 16 << 2 << 8 << 2;
    QTest::newRow("odd") << 3 << 48 << 3 << 17 << 5;
}

void TestNn::layerSizesMatchModel() {
    ModelConfig cfg;
    QFETCH(int, layers);
    QFETCH(int, d_model);
    QFETCH(int, heads);
    QFETCH(int, seq_len);
    QFETCH(int, mb);
    cfg.layers = layers;
    cfg.d_model = d_model;
    cfg.heads = heads;
    cfg.seq_len = seq_len;
    cfg.microbatch_size = mb;
    cfg.d_ff = 4 * d_model;
    const auto model = build_layers(cfg);
    const auto nn = GptLayer::build(cfg);
    QCOMPARE(nn.size(), model.size());
    for (std::size_t i = 0; i < nn.size(); ++i) {
        QCOMPARE(nn[i].kind(), model[i].kind);
        QCOMPARE(nn[i].param_count(), model[i].params);
        QCOMPARE(nn[i].activation_bytes(), model[i].activation_bytes);
        // the tables carve contiguously and cover the buffers exactly
        Vec p(static_cast<std::size_t>(nn[i].param_count()));
        std::int64_t n = 0;
        for (const TensorView& v : nn[i].params(p.data())) {
            QCOMPARE(v.f32, p.data() + n);
            n += v.count;
        }
        QCOMPARE(n, nn[i].param_count());
        n = 0;
        Vec a = buffer(nn[i].activation_bytes());
        for (const TensorView& v : nn[i].activations(bytes(a))) n += v.count;
        QCOMPARE(n * 4, nn[i].activation_bytes());
    }
}

void TestNn::splitEqualsFullBackward_data() {
    QTest::addColumn<int>("layer");
    QTest::newRow("embed") << 0;
    QTest::newRow("block") << 1;
    QTest::newRow("head") << 3;
}

// I then W == B (one go), and deferring W: I0 I1 W0 W1 == I0 W0 I1 W1, bitwise.
void TestNn::splitEqualsFullBackward() {
    QFETCH(int, layer);
    const GptLayer l = GptLayer::build(tiny_config())[static_cast<std::size_t>(layer)];
    const GptDims d = l.dims();
    const std::size_t BT = d.B * d.T, BTC = BT * d.C;
    TestRng rng{11};
    Vec params(static_cast<std::size_t>(l.param_count()));
    l.init_params(params.data(), 5);
    for (float& p : params) p += rng.uniform(-0.05f, 0.05f);  // no all-zero / all-one tensors
    Vec x[2], dout[2], acts[2], pend[2], out[2];
    std::vector<int> tok[2], tgt[2];
    for (int m = 0; m < 2; ++m) {
        x[m] = random_vec(BTC, rng);
        dout[m] = random_vec(BTC, rng);
        tok[m] = random_ids(BT, d.V, rng);
        tgt[m] = random_ids(BT, d.V, rng);
        acts[m] = buffer(l.activation_bytes());
        pend[m] = buffer(l.pending_bytes());
        out[m].resize(BTC);
        l.forward(params.data(), {x[m].data(), tok[m].data(), tgt[m].data()}, out[m].data(), bytes(acts[m]));
    }
    Vec scratch = buffer(l.scratch_bytes());
    auto fresh = [&] { return Vec(params.size(), 0.0f); };
    // B in one go, microbatch 0 then 1
    Vec g_full = fresh(), din_full[2] = {Vec(BTC), Vec(BTC)};
    for (int m = 0; m < 2; ++m)
        l.backward(params.data(), g_full.data(), dout[m].data(), bytes(acts[m]), bytes(pend[m]), bytes(scratch),
                   din_full[m].data());
    // I W I W
    Vec g_iw = fresh(), din_iw[2] = {Vec(BTC), Vec(BTC)};
    for (int m = 0; m < 2; ++m) {
        l.backward_input(params.data(), dout[m].data(), bytes(acts[m]), bytes(pend[m]), bytes(scratch),
                         din_iw[m].data());
        l.backward_weight(g_iw.data(), bytes(acts[m]), bytes(pend[m]));
    }
    // I I W W: W runs after another microbatch's I reused the scratch
    Vec g_deferred = fresh(), din_def[2] = {Vec(BTC), Vec(BTC)};
    for (int m = 0; m < 2; ++m)
        l.backward_input(params.data(), dout[m].data(), bytes(acts[m]), bytes(pend[m]), bytes(scratch),
                         din_def[m].data());
    std::fill(scratch.begin(), scratch.end(), 1e30f);  // W must not read the scratch
    for (int m = 0; m < 2; ++m) l.backward_weight(g_deferred.data(), bytes(acts[m]), bytes(pend[m]));

    const double d_full = max_abs_diff(g_iw, g_full), d_def = max_abs_diff(g_deferred, g_iw);
    double d_din = 0;
    if (layer != 0)
        for (int m = 0; m < 2; ++m)
            d_din = std::max({d_din, max_abs_diff(din_iw[m], din_full[m]), max_abs_diff(din_def[m], din_iw[m])});
    double g_norm = 0;
    for (float g : g_full) g_norm = std::max(g_norm, std::fabs(double{g}));
    qInfo("max |grad| %.3g; |I+W - B| %.3g, |IIWW - IWIW| %.3g, dinp %.3g", g_norm, d_full, d_def, d_din);
    QVERIFY2(g_norm > 0, "no gradient at all");
    QVERIFY2(d_full <= 1e-6 * g_norm, "I then W differs from the one-go backward");
    QCOMPARE(d_def, 0.0);
    QVERIFY2(d_din <= 1e-6, "dinp differs between the backward variants");
}

void TestNn::wholeModel() {
    const ModelConfig cfg = tiny_config();
    Model m(cfg, 1234);
    TestRng rng{99};
    const GptDims d = m.layers[0].dims();
    m.tokens = random_ids(d.B * d.T, d.V, rng);
    m.targets = random_ids(d.B * d.T, d.V, rng);
    const double loss = m.forward();
    qInfo("loss at init %.6f, ln(V) %.6f", loss, std::log(static_cast<double>(d.V)));
    QVERIFY2(std::fabs(loss - std::log(static_cast<double>(d.V))) < 0.05, "loss at init is not ~ln(V)");
    m.backward();
    // d loss / d (a few parameters of every tensor of every layer): the largest-gradient
    // element and two random ones. The loss is an fp32 chain: noise ~1e-5 absolute.
    FdReport rep;
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const auto pv = m.layers[l].params(m.params[l].data());
        const auto gv = m.layers[l].params(m.grads[l].data());
        for (std::size_t t = 0; t < pv.size(); ++t) {
            const std::size_t off = static_cast<std::size_t>(pv[t].f32 - m.params[l].data());
            std::vector<std::size_t> idx;
            std::size_t best = 0;
            for (std::int64_t i = 0; i < gv[t].count; ++i)
                if (std::fabs(gv[t].f32[i]) > std::fabs(gv[t].f32[best])) best = static_cast<std::size_t>(i);
            idx.push_back(off + best);
            for (std::size_t i : sample(static_cast<std::size_t>(pv[t].count), 2, rng)) idx.push_back(off + i);
            const std::string name = "layer " + std::to_string(l) + " " + pv[t].name;
            fd_check(
                name.c_str(), m.params[l], m.grads[l], [&] { return m.forward(); }, idx, rep, 2e-2, 2e-4);
        }
    }
    qInfo("whole model: %d parameters checked (%d > 10 atol), max |fd - analytic| %.3g, worst ratio %.3g", rep.checked,
          rep.significant, rep.max_abs, rep.worst_ratio);
    QVERIFY2(rep.worst_ratio <= 1.0, qPrintable(rep.worst));
}

void TestNn::adamw() {
    // Against the formula evaluated in double, over three steps.
    TestRng rng{3};
    const int N = 50;
    Vec p = random_vec(N, rng), m(N), v(N);
    std::vector<double> pr(p.begin(), p.end()), mr(N), vr(N);
    const AdamWConfig cfg{1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
    for (int t = 1; t <= 3; ++t) {
        const Vec g = random_vec(N, rng);
        adamw_step(p.data(), g.data(), m.data(), v.data(), N, cfg, t);
        for (int i = 0; i < N; ++i) {
            mr[i] = 0.9 * mr[i] + 0.1 * g[i];
            vr[i] = 0.95 * vr[i] + 0.05 * double{g[i]} * g[i];
            const double mhat = mr[i] / (1 - std::pow(0.9, t)), vhat = vr[i] / (1 - std::pow(0.95, t));
            pr[i] -= 1e-2 * (mhat / (std::sqrt(vhat) + 1e-8) + 0.1 * pr[i]);
        }
    }
    double diff = 0;
    for (int i = 0; i < N; ++i) diff = std::max(diff, std::fabs(p[i] - pr[i]));
    qInfo("adamw max |diff| %.3g", diff);
    QVERIFY(diff < 1e-6);
}

// tests/nn/make_fixture.py: the same tiny model in PyTorch float64, params, loss and grads.
void TestNn::pytorchFixture() {
    std::ifstream f(PIPELAB_NN_FIXTURE);
    QVERIFY2(f.good(), "missing fixture " PIPELAB_NN_FIXTURE);
    const nlohmann::json j = nlohmann::json::parse(f);
    ModelConfig cfg;
    const auto& c = j.at("config");
    cfg.vocab = c.at("V");
    cfg.d_model = c.at("C");
    cfg.heads = c.at("NH");
    cfg.layers = c.at("L");
    cfg.d_ff = c.at("F");
    cfg.seq_len = c.at("T");
    cfg.microbatch_size = c.at("B");
    Model m(cfg, 0);
    m.tokens = j.at("tokens").get<std::vector<int>>();
    m.targets = j.at("targets").get<std::vector<int>>();
    for (std::size_t l = 0; l < m.layers.size(); ++l)
        for (const TensorView& v : m.layers[l].params(m.params[l].data())) {
            const auto vals = j.at("params").at(l).at(v.name).get<std::vector<float>>();
            QCOMPARE(static_cast<std::int64_t>(vals.size()), v.count);
            std::copy(vals.begin(), vals.end(), v.f32);
        }
    const double loss = m.forward(), loss_ref = j.at("loss");
    m.backward();
    const double loss_rel = std::fabs(loss - loss_ref) / std::fabs(loss_ref);
    qInfo("loss %.8f, PyTorch %.8f, relative error %.3g", loss, loss_ref, loss_rel);
    QVERIFY(loss_rel <= 1e-4);
    // per tensor: max |ours - ref| / max |ref| <= 1e-4
    double worst = 0;
    QStringList bad;
    for (std::size_t l = 0; l < m.layers.size(); ++l)
        for (const TensorView& v : m.layers[l].params(m.grads[l].data())) {
            const auto ref = j.at("grads").at(l).at(v.name).get<std::vector<double>>();
            double dmax = 0, rmax = 0;
            std::int64_t first = -1;
            for (std::int64_t i = 0; i < v.count; ++i) {
                rmax = std::max(rmax, std::fabs(ref[static_cast<std::size_t>(i)]));
                const double di = std::fabs(v.f32[i] - ref[static_cast<std::size_t>(i)]);
                if (di > dmax) {
                    dmax = di;
                    first = i;
                }
            }
            const double rel = dmax / std::max(rmax, 1e-30);
            worst = std::max(worst, rel);
            if (rel > 1e-4)
                bad << QString("layer %1 %2[%3]: %4 vs %5 (relative %6)")
                           .arg(l)
                           .arg(v.name)
                           .arg(first)
                           .arg(double{v.f32[first]}, 0, 'g', 8)
                           .arg(ref[static_cast<std::size_t>(first)], 0, 'g', 8)
                           .arg(rel, 0, 'g', 3);
        }
    qInfo("gradients: worst per-tensor relative error %.3g", worst);
    QVERIFY2(bad.isEmpty(), qPrintable(bad.mid(0, 5).join("\n")));
}

QTEST_GUILESS_MAIN(TestNn)
#include "tst_nn.moc"
