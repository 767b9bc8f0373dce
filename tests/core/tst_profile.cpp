// Profiles: JSON round trip, refusal of malformed ones (naming the field), of another
// model's (saying what differs), and the calibrated cost model, device sharing included.
#include <QtTest>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/profile.h"
#include "core/run_config.h"
#include "core/schedule_gen.h"
#include "core/simulator.h"

using namespace pipelab;
using nlohmann::json;

namespace {

Profile sample_profile(const ModelConfig& m) {
    Profile p;
    p.machine = "test";
    p.cores = 2;
    p.backend = "cpu";
    p.date = "2026-12-03T06:00:00Z";
    p.repeats = 3;
    p.model = m;
    const CostModel flops = cost_model_from_flops(m, DeviceSpec{});
    for (std::size_t l = 0; l < flops.layers.size(); ++l) {
        LayerProfile lp;
        lp.name = "layer " + std::to_string(l);
        lp.f = {100.0 + static_cast<double>(l), 1, 3};
        lp.i = {200.0, 2, 3};
        lp.w = {50.0, 1, 3};
        lp.activation_bytes = flops.layers[l].activation_bytes;
        lp.pending_bytes = flops.layers[l].pending_bytes;
        p.layers.push_back(lp);
    }
    p.link.latency_us = 10;
    p.link.bandwidth_bytes_per_us = 1000;
    p.link.samples = {{4096, 14.1}, {65536, 75.5}};
    return p;
}

QString refusal(const json& j) {
    try {
        profile_from_json(j);
    } catch (const ConfigError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace

class TestProfile : public QObject {
    Q_OBJECT
private slots:
    void roundTrips() {
        const Profile p = sample_profile(ModelConfig{});
        const Profile q = profile_from_json(json::parse(profile_to_json(p).dump()));
        QCOMPARE(q.layers.size(), p.layers.size());
        QCOMPARE(q.layers[3].f.median_us, p.layers[3].f.median_us);
        QCOMPARE(q.layers[3].name, p.layers[3].name);
        QCOMPARE(q.link.samples.size(), std::size_t(2));
        QCOMPARE(q.model.vocab, p.model.vocab);
        QCOMPARE(q.cores, 2);
    }

    void refusesBadTimesNamingTheField() {
        const json good = profile_to_json(sample_profile(ModelConfig{}));
        QVERIFY(refusal(good).isEmpty());
        json j = good;
        j["layers"][2]["f"]["median_us"] = 0.0;
        QVERIFY2(refusal(j).contains("layers[2].f.median_us") && refusal(j).contains("> 0"), qPrintable(refusal(j)));
        j = good;
        j["layers"][4]["w"]["median_us"] = -3.0;
        QVERIFY(refusal(j).contains("layers[4].w.median_us"));
        j = good;
        j["layers"][1]["i"]["median_us"] = std::numeric_limits<double>::quiet_NaN();  // dumps as null
        QVERIFY2(refusal(j).contains("layers[1].i.median_us"), qPrintable(refusal(j)));
        j = good;
        j["link"]["latency_us"] = "fast";
        QVERIFY(refusal(j).contains("link.latency_us"));
        j = good;
        j["layers"].erase(0);
        QVERIFY2(refusal(j).contains("\"layers\"") && refusal(j).contains("partition units"), qPrintable(refusal(j)));
        j = good;
        j["model"]["vocab"] = 0;
        QVERIFY(refusal(j).contains("model.vocab"));
        j = good;
        j["format"] = "chrome-trace";
        QVERIFY(refusal(j).contains("format"));
        j = good;
        j["layers"][0].erase("pending_bytes");
        QVERIFY(refusal(j).contains("layers[0].pending_bytes") && refusal(j).contains("missing"));
        QVERIFY(refusal(json::array()).contains("profile"));
        QVERIFY_THROWS_EXCEPTION(ConfigError, parse_profile("{\"format\": ", "p.json"));
    }

    void refusesAnotherModelSayingWhatDiffers() {
        ModelConfig a;
        ModelConfig b = a;
        b.vocab = 16384;
        b.microbatch_size = 8;
        const Profile p = sample_profile(a);
        QVERIFY(!profile_mismatch(p, a));
        const auto diff = profile_mismatch(p, b);
        QVERIFY(diff);
        QVERIFY2(diff->find("model.vocab: profile 256, config 16384") != std::string::npos, diff->c_str());
        QVERIFY(diff->find("microbatch_size") != std::string::npos);
        QVERIFY_THROWS_EXCEPTION(ConfigError, apply_profile(p, b, cost_model_from_flops(b, {}), 2));
    }

    void calibratedCostsComeFromTheProfile() {
        RunConfig cfg;
        cfg.pipeline.stages = 2;
        const Plan plan = make_plan(cfg);
        const Profile p = sample_profile(cfg.model);
        const CostModel cm = apply_profile(p, cfg.model, plan.cost, 2);
        QCOMPARE(cm.layers[5].fwd_us, 105.0);
        QCOMPARE(cm.layers[5].bwd_input_us, 200.0);
        QCOMPARE(cm.layers[5].bwd_weight_us, 50.0);
        QCOMPARE(cm.layers[5].param_bytes, plan.cost.layers[5].param_bytes);
        QCOMPARE(cm.link.latency_us, 10.0);
        QCOMPARE(cm.rank_device, (std::vector<int>{0, 0}));
        QCOMPARE(cm.device_slots, (std::vector<double>{2.0}));
    }

    // p = 4 threads on 2 cores: the simulator runs them at half speed when all four are
    // busy, so GPipe's steady phase (every rank computing) takes twice as long as with
    // four devices, and p = 2 is untouched.
    void ranksShareTheCores() {
        for (int p : {2, 4}) {
            RunConfig cfg;
            cfg.model.layers = 6;
            cfg.pipeline.stages = p;
            cfg.pipeline.microbatches = 16;
            cfg.pipeline.schedule = ScheduleKind::GPipe;
            const Plan plan = make_plan(cfg);
            Profile prof = sample_profile(cfg.model);
            prof.link = {};
            const CostModel shared = apply_profile(prof, cfg.model, plan.cost, p);
            CostModel own = shared;
            own.rank_device.clear();
            own.device_slots.clear();
            const double t_shared = simulate(plan.schedule, plan.partition, shared).step_time_us();
            const double t_own = simulate(plan.schedule, plan.partition, own).step_time_us();
            if (p == 2)
                QCOMPARE(t_shared, t_own);
            else
                QVERIFY2(t_shared > 1.5 * t_own, qPrintable(QString("%1 vs %2").arg(t_shared).arg(t_own)));
        }
    }

    void timeStatsAndLinkFit() {
        const TimeStat s = time_stat({5, 1, 3, 2, 4});
        QCOMPARE(s.median_us, 3.0);
        QCOMPARE(s.spread_us, 1.0);
        QCOMPARE(s.samples, 5);
        LinkProfile l;
        l.samples = {{0, 10}, {1000, 11}, {2000, 12}};
        fit_link(l);
        QVERIFY(std::abs(l.latency_us - 10) < 1e-9);
        QVERIFY(std::abs(l.bandwidth_bytes_per_us - 1000) < 1e-6);
    }
};

QTEST_APPLESS_MAIN(TestProfile)
#include "tst_profile.moc"
