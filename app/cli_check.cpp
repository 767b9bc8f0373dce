// pipelab-cli check: does a real backend compute what the CPU engine computes, train, and
// overlap its ranks? Prints one PASS/FAIL line per item and a closing "N passed, N failed".
//
//   pipelab-cli check --backend cuda|cpu [--fixtures DIR]
//   pipelab-cli check --write-fixtures DIR        (builds with the CPU backend only)
//
// Fixtures: for a small model the CPU engine runs one step unpartitioned and writes the
// loss and every layer's gradient (summed over the step's microbatches, before the
// optimizer) as NAME.json (config, loss, layer sizes) + NAME.bin (float32, little-endian,
// layers in order). A pipelined step computes the unpartitioned model's gradients, so one
// fixture serves every schedule and partition.
//
// Items: one step's loss and gradients for gpipe, 1f1b, interleaved and zb with 4 ranks on
// one device (cuda: in fp32, tf32 and bf16, each with its stated bound), 2 ranks on 2 GPUs
// when there are two; 50 training steps on text lower the loss; ranks sharing a device
// overlap in the measured Gantt.
#include "app/cli_check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/backend.h"
#include "core/executor.h"
#include "core/model.h"
#include "core/run_config.h"

#if PIPELAB_HAVE_CPU_BACKEND
#include "core/nn/cpu_backend.h"
#endif
#if PIPELAB_HAVE_CUDA_BACKEND
#include "gpu/cuda_backend.h"
#endif

namespace pipelab {

namespace {

using nlohmann::json;
constexpr int kExitOk = 0, kExitFail = 1, kExitUsage = 2, kExitSkip = 77;
const char* kFixtureName = "tiny_gpt";

// A config of `backend` with this model (d_ff = 4 d_model, 4 heads).
RunConfig with_model(const std::string& backend, int vocab, int d_model, int layers, int seq_len, int microbatch_size) {
    RunConfig c;
    c.backend = backend;
    c.model.vocab = vocab;
    c.model.d_model = d_model;
    c.model.heads = 4;
    c.model.layers = layers;
    c.model.d_ff = 4 * d_model;
    c.model.seq_len = seq_len;
    c.model.microbatch_size = microbatch_size;
    return c;
}

// The fixture model: 8 partition units (embedding, 6 blocks, head), so 4 ranks x 2 chunks
// of interleaved hold one unit each; 4 microbatches, a multiple of 4 ranks.
RunConfig fixture_config() {
    RunConfig c = with_model("sim", 64, 32, 6, 16, 2);
    c.pipeline.stages = 1;
    c.pipeline.microbatches = 4;
    c.pipeline.schedule = ScheduleKind::GPipe;
    c.training.data = "synthetic";
    c.seed = 1234;
    return c;
}

struct Fixture {
    RunConfig cfg;
    double loss = 0;
    std::vector<std::vector<float>> grads;  // per layer
};

// ---- one backend behind one interface ---------------------------------------------------

struct Trainer {
    std::function<StepOutcome(int)> step;
    std::function<std::vector<float>(int)> layer_grads;
    std::function<void(bool)> apply_optimizer;
    std::string where;  // "4 ranks on GPU 0"
};

std::string placement(const std::vector<int>& gpus) {
    std::map<int, int> n;
    for (int g : gpus) ++n[g];
    std::string s;
    for (const auto& [g, k] : n)
        s += (s.empty() ? "" : ", ") + std::to_string(k) + (k == 1 ? " rank" : " ranks") + " on GPU " +
             std::to_string(g);
    return s;
}

std::unique_ptr<Trainer> make_trainer(const std::string& backend, const RunConfig& cfg, const Plan& plan) {
    auto t = std::make_unique<Trainer>();
#if PIPELAB_HAVE_CPU_BACKEND
    if (backend == "cpu") {
        auto tr = std::make_shared<nn::CpuTrainer>(cfg, plan);
        const std::vector<Layer> layers = build_layers(cfg.model);
        t->step = [tr](int s) { return tr->step(s); };
        t->layer_grads = [tr, layers](int l) {
            const float* g = tr->stage_of_layer(l).layer_grads(l);
            return std::vector<float>(g, g + layers[static_cast<std::size_t>(l)].params);
        };
        t->apply_optimizer = [tr](bool on) {
            for (int r = 0; r < tr->n_ranks(); ++r) tr->stage(r).set_apply_optimizer(on);
        };
        t->where = std::to_string(plan.schedule.n_ranks) + " CPU threads";
        return t;
    }
#endif
#if PIPELAB_HAVE_CUDA_BACKEND
    if (backend == "cuda") {
        auto tr = std::make_shared<gpu::CudaTrainer>(cfg, plan);
        t->step = [tr](int s) { return tr->step(s); };
        t->layer_grads = [tr](int l) { return tr->layer_grads(l); };
        t->apply_optimizer = [tr](bool on) { tr->set_apply_optimizer(on); };
        t->where = placement(tr->gpu_of_rank()) + ", " + cfg.cuda.precision;
        return t;
    }
#endif
    (void)cfg;
    (void)plan;
    throw std::runtime_error("backend \"" + backend + "\" is not built into this pipelab-cli");
}

// ---- fixtures ---------------------------------------------------------------------------

Fixture read_fixture(const std::string& dir) {
    const std::string base = dir + "/" + kFixtureName;
    std::ifstream js(base + ".json");
    if (!js) throw std::runtime_error("cannot open " + base + ".json (write one with --write-fixtures DIR)");
    const json j = json::parse(js);
    Fixture f;
    f.cfg = run_config_from_json(j.at("config"));
    f.loss = j.at("loss").get<double>();
    std::ifstream bin(base + ".bin", std::ios::binary);
    if (!bin) throw std::runtime_error("cannot open " + base + ".bin");
    for (const json& layer : j.at("layers")) {
        std::vector<float> g(layer.at("count").get<std::size_t>());
        bin.read(reinterpret_cast<char*>(g.data()), static_cast<std::streamsize>(g.size() * 4));
        if (!bin) throw std::runtime_error(base + ".bin is shorter than " + base + ".json says");
        f.grads.push_back(std::move(g));
    }
    return f;
}

#if PIPELAB_HAVE_CPU_BACKEND
int write_fixtures(const std::string& dir) {
    const RunConfig cfg = fixture_config();
    const Plan plan = make_plan(cfg);
    auto t = make_trainer("cpu", cfg, plan);
    t->apply_optimizer(false);
    const StepOutcome out = t->step(1);
    const std::string base = dir + "/" + kFixtureName;
    std::ofstream bin(base + ".bin", std::ios::binary);
    json layers = json::array();
    const int n_layers = cfg.model.layers + 2;
    for (int l = 0; l < n_layers; ++l) {
        const std::vector<float> g = t->layer_grads(l);
        bin.write(reinterpret_cast<const char*>(g.data()), static_cast<std::streamsize>(g.size() * 4));
        layers.push_back({{"layer", l}, {"count", g.size()}});
    }
    const json j = {
        {"made_by", "pipelab-cli check --write-fixtures (the cpu backend, one step, stages 1, no optimizer)"},
        {"config", run_config_to_json(cfg)},
        {"loss", out.loss},
        {"layers", layers}};
    std::ofstream(base + ".json") << j.dump(2) << "\n";
    if (!bin) throw std::runtime_error("cannot write " + base + ".bin");
    std::cout << "wrote " << base << ".json and .bin: loss " << out.loss << ", " << n_layers << " layers\n";
    return kExitOk;
}
#endif

// ---- items ------------------------------------------------------------------------------

struct Tally {
    int passed = 0, failed = 0;
    void item(bool ok, const std::string& what, const std::string& detail) {
        std::cout << (ok ? "PASS " : "FAIL ") << what << ": " << detail << "\n" << std::flush;
        (ok ? passed : failed) += 1;
    }
};

// max |got - want| / max |want| over the tensor.
double normwise(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return INFINITY;
    double d = 0, r = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const double e = std::fabs(static_cast<double>(got[i]) - want[i]);
        d = std::isnan(e) ? INFINITY : std::max(d, e);
        r = std::max(r, std::fabs(static_cast<double>(want[i])));
    }
    return d / std::max(r, 1e-30);
}

std::string sci(double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2e", x);
    return b;
}

// One step of `sched` against the fixture, within `tol`.
void check_step(Tally& tally, const std::string& backend, const Fixture& fx, ScheduleKind sched, int stages,
                const std::vector<int>& devices, const std::string& precision, double tol) {
    RunConfig cfg = fx.cfg;
    cfg.backend = backend;
    cfg.pipeline.schedule = sched;
    cfg.pipeline.stages = stages;
    cfg.pipeline.chunks = sched == ScheduleKind::Interleaved ? 2 : default_chunks(sched);
    cfg.pipeline.boundaries.clear();
    cfg.cuda.devices = devices;
    cfg.cuda.precision = precision;
    const std::string name = std::string(to_string(sched)) + " step vs CPU fixture";
    try {
        const Plan plan = make_plan(cfg);
        auto t = make_trainer(backend, cfg, plan);
        t->apply_optimizer(false);
        const StepOutcome out = t->step(1);
        const double loss_err = std::fabs(out.loss - fx.loss) / std::fabs(fx.loss);
        double worst = 0;
        int worst_layer = 0;
        for (int l = 0; l < static_cast<int>(fx.grads.size()); ++l) {
            const double e = normwise(t->layer_grads(l), fx.grads[static_cast<std::size_t>(l)]);
            if (!(e <= worst)) worst = e, worst_layer = l;
        }
        const bool ok = loss_err <= tol && worst <= tol;
        tally.item(ok, name + " (" + t->where + ")",
                   "loss " + std::to_string(out.loss) + " vs " + std::to_string(fx.loss) + " (rel " + sci(loss_err) +
                       "), gradients max rel " + sci(worst) + " at layer " + std::to_string(worst_layer) + " (tol " +
                       sci(tol) + ")");
    } catch (const std::exception& e) {
        tally.item(false, name, e.what());
    }
}

void check_training(Tally& tally, const std::string& backend, const std::string& samples) {
    RunConfig cfg = with_model(backend, 256, 64, 4, 64, 4);
    cfg.pipeline.stages = 4;
    cfg.pipeline.microbatches = 4;
    cfg.pipeline.schedule = ScheduleKind::OneFOneB;
    cfg.training.data = samples + "/corpus_kjv.txt";
    cfg.training.lr = 3e-3;
    const int steps = 50;
    try {
        const Plan plan = make_plan(cfg);
        auto t = make_trainer(backend, cfg, plan);
        std::vector<double> losses;
        for (int s = 1; s <= steps; ++s) losses.push_back(t->step(s).loss);
        double last = 0;
        for (int i = steps - 5; i < steps; ++i) last += losses[static_cast<std::size_t>(i)] / 5;
        const bool ok = std::isfinite(last) && last < 0.8 * losses.front();
        tally.item(ok, std::to_string(steps) + " training steps lower the loss (1f1b, " + t->where + ")",
                   "loss " + std::to_string(losses.front()) + " at step 1, mean of the last 5 " + std::to_string(last) +
                       " (must be below 80 % of the first)");
    } catch (const std::exception& e) {
        tally.item(false, "training lowers the loss", e.what());
    }
}

// Ranks sharing a device run at the same time: the compute blocks of different ranks
// overlap in the measured Gantt, for at least 5 % of the step (GPipe's forwards of
// consecutive microbatches on consecutive ranks can all overlap).
void check_overlap(Tally& tally, const std::string& backend, bool big) {
    RunConfig cfg = big ? with_model(backend, 256, 256, 8, 256, 8) : with_model(backend, 256, 64, 4, 32, 2);
    cfg.pipeline.stages = 4;
    cfg.pipeline.microbatches = 8;
    cfg.pipeline.schedule = ScheduleKind::GPipe;
    cfg.cuda.devices = {0, 0, 0, 0};
    try {
        const Plan plan = make_plan(cfg);
        auto t = make_trainer(backend, cfg, plan);
        t->step(1);  // warm-up: allocations, cuBLAS heuristics
        // The best of three steps: a busy host can serialise one step's threads.
        double overlap = 0, step = 0;
        for (int s = 2; s <= 4; ++s) {
            const Timeline tl = t->step(s).timeline;
            double o = 0;
            std::vector<const TimelineEvent*> compute;
            for (const TimelineEvent& e : tl.events)
                if (is_compute(e.kind)) compute.push_back(&e);
            for (std::size_t i = 0; i < compute.size(); ++i)
                for (std::size_t j = i + 1; j < compute.size(); ++j)
                    if (compute[i]->rank != compute[j]->rank)
                        o += std::max(0.0, std::min(compute[i]->end_us, compute[j]->end_us) -
                                               std::max(compute[i]->start_us, compute[j]->start_us));
            if (step == 0 || o / tl.step_time_us() > overlap / step) overlap = o, step = tl.step_time_us();
        }
        const bool ok = step > 0 && overlap >= 0.05 * step;
        tally.item(ok, "ranks sharing a device overlap (gpipe, " + t->where + ")",
                   "compute of different ranks overlaps for " + std::to_string(overlap / 1000) + " ms in a " +
                       std::to_string(step / 1000) + " ms step (must be >= 5 %)");
    } catch (const std::exception& e) {
        tally.item(false, "ranks sharing a device overlap", e.what());
    }
}

}  // namespace

// A data folder: the source tree's when this binary runs from its build, else the
// installed copy beside the binary (<prefix>/share/pipelab/<name>).
static std::string data_dir(const std::string& built_in, const std::string& name) {
    std::error_code ec;
    if (std::filesystem::is_directory(built_in, ec)) return built_in;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return built_in;
    const auto installed = exe.parent_path().parent_path() / "share" / "pipelab" / name;
    return std::filesystem::is_directory(installed, ec) ? installed.string() : built_in;
}

int run_check_command(int argc, char** argv) {
    std::map<std::string, std::string> flags;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--backend" || a == "--fixtures" || a == "--write-fixtures") && i + 1 < argc) {
            flags[a.substr(2)] = argv[++i];
        } else {
            std::cerr << "pipelab-cli check: unknown or incomplete option \"" << a
                      << "\"\nusage: pipelab-cli check --backend cuda|cpu [--fixtures DIR] | --write-fixtures DIR\n";
            return kExitUsage;
        }
    }
    try {
        if (flags.count("write-fixtures")) {
#if PIPELAB_HAVE_CPU_BACKEND
            return write_fixtures(flags["write-fixtures"]);
#else
            std::cerr << "pipelab-cli check: --write-fixtures needs the cpu backend (built without OpenBLAS)\n";
            return kExitUsage;
#endif
        }
        const std::string backend = flags.count("backend") ? flags["backend"] : "";
        if (backend != "cuda" && backend != "cpu") {
            std::cerr << "pipelab-cli check: --backend must be cuda or cpu\n";
            return kExitUsage;
        }
        for (const BackendInfo& b : list_backends()) {
            if (b.name != backend || b.available) continue;
            std::cout << "SKIP: " << (backend == "cuda" ? "no CUDA device" : "no cpu backend") << " (" << b.why_not
                      << ")\n";
            return kExitSkip;
        }
        const Fixture fx =
            read_fixture(flags.count("fixtures") ? flags["fixtures"] : data_dir(PIPELAB_FIXTURES_DIR, "fixtures"));
        Tally tally;
        // fp32: only summation order differs from the CPU; tf32 (10-bit mantissa) and bf16
        // (7-bit) round every GEMM operand: bounds of about ten unit roundoffs, normwise.
        const std::vector<std::pair<std::string, double>> precisions =
            backend == "cuda"
                ? std::vector<std::pair<std::string, double>>{{"fp32", 1e-4}, {"tf32", 2e-2}, {"bf16", 5e-2}}
                : std::vector<std::pair<std::string, double>>{{"fp32", 1e-5}};
        for (const auto& [precision, tol] : precisions)
            for (int k = 0; k < static_cast<int>(ScheduleKind::NUM_SCHEDULES); ++k) {
                // Every schedule on 4 ranks, or on 2 where the fixture's microbatches are too
                // few for 4 (dualpipev needs 2 per chunk pair: m >= 2p).
                const auto s = static_cast<ScheduleKind>(k);
                const int chunks = s == ScheduleKind::Interleaved ? 2 : default_chunks(s);
                const bool four = !check_schedule_spec({s, 4, fx.cfg.pipeline.microbatches, chunks}, 1 << 20);
                check_step(tally, backend, fx, s, four ? 4 : 2,
                           four ? std::vector<int>{0, 0, 0, 0} : std::vector<int>{0, 0}, precision, tol);
            }
#if PIPELAB_HAVE_CUDA_BACKEND
        if (backend == "cuda") {
            if (gpu::cuda_gpu_count() >= 2)
                check_step(tally, backend, fx, ScheduleKind::OneFOneB, 2, {0, 1}, "fp32", 1e-4);
            else
                std::cout << "(one GPU: the 2 ranks on 2 GPUs item needs a second)\n";
        }
#endif
        check_training(tally, backend, data_dir(PIPELAB_SAMPLES_DIR, "samples"));
        check_overlap(tally, backend, backend == "cuda");
        std::cout << tally.passed << " passed, " << tally.failed << " failed\n";
        return tally.failed == 0 ? kExitOk : kExitFail;
    } catch (const std::exception& e) {
        std::cerr << "pipelab-cli check: " << e.what() << "\n";
        return kExitFail;
    }
}

}  // namespace pipelab
