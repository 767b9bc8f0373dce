#include "app/cli_tune.h"

#include <charconv>
#include <cstdio>
#include <iostream>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/auto_partition.h"
#include "core/host_device.h"
#include "core/profile.h"
#include "core/profile_run.h"

#if PIPELAB_HAVE_CUDA_BACKEND
#include "gpu/cuda_device.h"
#endif

namespace pipelab {

namespace {

int int_value(const CliValues& v, const std::string& key, int def, int lo, int hi) {
    const auto it = v.find(key);
    if (it == v.end()) return def;
    int x = 0;
    const auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), x);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || x < lo || x > hi)
        throw ConfigError("--" + key, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                                          ", got \"" + it->second + "\"");
    return x;
}

std::unique_ptr<Device> link_device_for(const std::string& backend) {
    if (backend == "cpu") return std::make_unique<HostDevice>(2);
#if PIPELAB_HAVE_CUDA_BACKEND
    if (backend == "cuda") return std::make_unique<gpu::CudaDevice>(std::vector<int>{0, 0});
#endif
    return nullptr;
}

}  // namespace

Plan calibrated_plan(const RunConfig& cfg, const std::string& profile_path) {
    Plan plan = make_plan(cfg);
    const Profile prof = load_profile(profile_path);
    if (auto diff = profile_mismatch(prof, cfg.model)) throw ConfigError(profile_path, *diff);
    plan.cost = apply_profile(prof, cfg.model, plan.cost, plan.schedule.n_ranks);
    return plan;
}

int cli_profile(const RunConfig& cfg_in, const CliValues& values) {
    RunConfig cfg = cfg_in;
    if (cfg.backend == "sim") cfg.backend = "cpu";  // a profile is measured, never simulated
    if (cfg.backend != "cpu" && cfg.backend != "cuda")
        throw ConfigError("--backend", "profile measures a real backend: cpu or cuda, got \"" + cfg.backend + "\"");
    ProfileOptions opts;
    opts.repeats = int_value(values, "repeats", opts.repeats, 1, 1000);
    const auto out_it = values.find("out");
    const std::string out = out_it == values.end() ? "profile.json" : out_it->second;

    RunControl control;
    control.on_progress = [](int step, int steps, const std::string& status) {
        std::cout << "profile " << step << "/" << steps << "  " << status << "\n" << std::flush;
    };
    std::cout << "profiling " << cfg.model.layers + 2 << " layers on backend " << cfg.backend << " (" << opts.repeats
              << " repeats, microbatch " << cfg.model.microbatch_size << " x " << cfg.model.seq_len << " tokens)\n";
    const std::unique_ptr<Device> link_dev = link_device_for(cfg.backend);
    const Profile p = measure_profile(cfg, opts, control, link_dev.get());

    std::printf("%-10s %12s %12s %12s   (median us, +- half IQR)\n", "layer", "F", "I", "W");
    for (const LayerProfile& l : p.layers)
        std::printf("%-10s %7.1f+-%-4.0f %7.1f+-%-4.0f %7.1f+-%-4.0f\n", l.name.c_str(), l.f.median_us, l.f.spread_us,
                    l.i.median_us, l.i.spread_us, l.w.median_us, l.w.spread_us);
    std::printf("link: %.2f us latency, %.2f GB/s (", p.link.latency_us, p.link.bandwidth_bytes_per_us / 1e3);
    for (std::size_t k = 0; k < p.link.samples.size(); ++k)
        std::printf("%s%lld B %.1f us", k ? ", " : "", static_cast<long long>(p.link.samples[k].bytes),
                    p.link.samples[k].us);
    std::printf(")\n");
    save_profile(p, out);
    if (p.parallel_slots > 0)
        std::printf("%d threads at once run as %.2f single-thread speeds (parallel_slots)\n", p.cores,
                    p.parallel_slots);
    std::cout << "profile written to " << out << " (" << p.machine << ", " << p.cores << " cores, " << p.date << ")\n";
    return 0;
}

namespace {

std::string cuts_text(const Partition& p) {
    std::string out;
    for (int c : p.cuts()) out += (out.empty() ? "" : ",") + std::to_string(c);
    return out.empty() ? "(none)" : out;
}

// Writes the boundaries into the config file, keeping every other field as it was.
void apply_boundaries(const std::string& path, const Partition& part) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path, "cannot open config file");
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw ConfigError(path, "not a JSON object");
    if (!j.contains("pipeline")) j["pipeline"] = nlohmann::json::object();
    j["pipeline"]["boundaries"] = part.cuts();
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error("error while writing " + path);
}

}  // namespace

int cli_partition(const RunConfig& cfg_in, const CliValues& values) {
    RunConfig cfg = cfg_in;
    cfg.pipeline.boundaries.clear();  // the default (cost-model balance) is the baseline
    const auto profile_it = values.find("profile");
    Plan plan = profile_it != values.end() ? calibrated_plan(cfg, profile_it->second) : make_plan(cfg);
    AutoPartitionOptions opts;
    if (const auto it = values.find("memory-cap"); it != values.end()) {
        try {
            opts.memory_cap_bytes = parse_bytes(it->second);
        } catch (const std::invalid_argument& e) {
            throw ConfigError("--memory-cap", e.what());
        }
    }
    const int k = plan.schedule.n_chunks();
    const PartitionScore base = score_partition(plan.schedule, plan.partition, plan.cost);
    const Partition equal = balanced_partition(std::vector<double>(plan.cost.layers.size(), 1.0), k);
    const PartitionScore eq = score_partition(plan.schedule, equal, plan.cost);
    const AutoPartitionResult r = auto_partition(plan.schedule, plan.cost, opts);

    std::printf("schedule %s, p=%d, m=%d, v=%d, %zu layers, costs from %s\n", plan.schedule.name.c_str(),
                plan.schedule.n_ranks, plan.schedule.n_microbatches, k / std::max(1, plan.schedule.n_ranks),
                plan.cost.layers.size(), profile_it != values.end() ? profile_it->second.c_str() : "the FLOP model");
    std::printf("searched %lld split(s)%s\n", r.evaluated, r.exhaustive ? " (all of them: exact)" : " (local search)");
    if (!r.feasible) {
        std::fprintf(stderr,
                     "pipelab-cli: no partition fits --memory-cap %s: at best rank %d needs %s (%lld bytes); "
                     "the smallest cap that works is %s (%lld bytes), with boundaries %s\n",
                     format_bytes(opts.memory_cap_bytes).c_str(), r.over_rank, format_bytes(r.over_bytes).c_str(),
                     static_cast<long long>(r.over_bytes), format_bytes(r.min_cap_bytes).c_str(),
                     static_cast<long long>(r.min_cap_bytes), cuts_text(r.least_memory).c_str());
        return 2;
    }
    const bool base_fits = opts.memory_cap_bytes == 0 || base.max_peak_bytes() <= opts.memory_cap_bytes;
    std::printf("balanced default  %-24s %10.3f ms predicted, peak %s%s\n", cuts_text(plan.partition).c_str(),
                base.step_us / 1e3, format_bytes(base.max_peak_bytes()).c_str(), base_fits ? "" : " (over the cap)");
    std::printf("equal layers      %-24s %10.3f ms predicted, peak %s\n", cuts_text(equal).c_str(), eq.step_us / 1e3,
                format_bytes(eq.max_peak_bytes()).c_str());
    std::printf("auto              %-24s %10.3f ms predicted, peak %s (rank %d)\n", cuts_text(r.best).c_str(),
                r.score.step_us / 1e3, format_bytes(r.score.max_peak_bytes()).c_str(), r.score.max_peak_rank());
    std::printf("boundaries %s\ngain over the balanced default: %.1f %%\n", cuts_text(r.best).c_str(),
                100.0 * (base.step_us - r.score.step_us) / base.step_us);
    if (values.count("apply")) {
        const auto cfg_it = values.find("config");
        if (cfg_it == values.end()) throw ConfigError("--apply", "needs --config FILE to write the boundaries into");
        apply_boundaries(cfg_it->second, r.best);
        std::printf("boundaries written to %s\n", cfg_it->second.c_str());
    }
    return 0;
}

}  // namespace pipelab
