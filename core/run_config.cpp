#include "core/run_config.h"

#include "core/measured_costs.h"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/recompute.h"
#include "core/validate.h"

namespace pipelab {

using nlohmann::json;

namespace {

// Reads one section of the config, remembering which keys it consumed so that unknown
// keys can be reported.
class Section {
public:
    Section(const json& j, std::string path) : m_j(j), m_path(std::move(path)) {
        if (!m_j.is_object())
            throw ConfigError(m_path.empty() ? "config" : m_path, "must be a JSON object, got " + m_j.dump());
    }

    std::string field(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }

    const json* find(const std::string& key) {
        m_known.insert(key);
        const auto it = m_j.find(key);
        return it == m_j.end() ? nullptr : &*it;
    }

    void integer(const std::string& key, int& out, long long lo, long long hi) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_number_integer()) throw ConfigError(field(key), "must be an integer, got " + v->dump());
        const long long x =
            v->is_number_unsigned() && v->get<unsigned long long>() > 1ULL << 62 ? hi + 1 : v->get<long long>();
        if (x < lo) throw ConfigError(field(key), "must be >= " + std::to_string(lo) + ", got " + v->dump());
        if (x > hi) throw ConfigError(field(key), "must be <= " + std::to_string(hi) + ", got " + v->dump());
        out = static_cast<int>(x);
    }

    void number(const std::string& key, double& out, double lo, double hi, bool lo_open) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_number()) throw ConfigError(field(key), "must be a number, got " + v->dump());
        const double x = v->get<double>();
        const auto s = [](double d) {
            std::ostringstream o;
            o << d;
            return o.str();
        };
        if (lo_open ? !(x > lo) : !(x >= lo))
            throw ConfigError(field(key),
                              std::string("must be ") + (lo_open ? "> " : ">= ") + s(lo) + ", got " + v->dump());
        if (x > hi) throw ConfigError(field(key), "must be <= " + s(hi) + ", got " + v->dump());
        out = x;
    }

    void boolean(const std::string& key, bool& out) {
        const json* v = find(key);
        if (!v) return;
        if (!v->is_boolean()) throw ConfigError(field(key), "must be true or false, got " + v->dump());
        out = v->get<bool>();
    }

    std::optional<std::string> string(const std::string& key) {
        const json* v = find(key);
        if (!v) return std::nullopt;
        if (!v->is_string()) throw ConfigError(field(key), "must be a string, got " + v->dump());
        return v->get<std::string>();
    }

    // Call after reading every known key.
    void reject_unknown() const {
        for (auto it = m_j.begin(); it != m_j.end(); ++it) {
            if (m_known.count(it.key())) continue;
            std::string known;
            for (const auto& k : m_known) known += (known.empty() ? "" : ", ") + k;
            throw ConfigError(field(it.key()), "unknown field (allowed here: " + known + ")");
        }
    }

private:
    const json& m_j;
    std::string m_path;
    std::set<std::string> m_known;
};

constexpr long long kMaxDim = 1 << 20;

void read_model(Section& s, ModelConfig& m) {
    s.integer("vocab", m.vocab, 2, kMaxDim);
    s.integer("d_model", m.d_model, 1, 65536);
    s.integer("heads", m.heads, 1, 1024);
    s.integer("layers", m.layers, 1, 4096);
    s.integer("d_ff", m.d_ff, 1, kMaxDim);
    s.integer("seq_len", m.seq_len, 1, 65536);
    s.integer("microbatch_size", m.microbatch_size, 1, 65536);
    s.reject_unknown();
    if (m.d_model % m.heads != 0)
        throw ConfigError(s.field("d_model"), "must be a multiple of heads (" + std::to_string(m.heads) + "), got " +
                                                  std::to_string(m.d_model));
}

void read_pipeline(Section& s, PipelineConfig& p) {
    if (auto name = s.string("schedule")) {
        const auto kind = parse_schedule_kind(*name);
        if (!kind)
            throw ConfigError(s.field("schedule"),
                              "unknown schedule \"" + *name + "\" (allowed: " + schedule_kind_names() + ")");
        p.schedule = *kind;
        // zb-v and dualpipev run two chunks per rank: that is their default when not given.
        if (!s.find("chunks")) p.chunks = default_chunks(*kind);
    }
    s.integer("stages", p.stages, 1, kMaxRanks);
    s.integer("microbatches", p.microbatches, 1, kMaxMicrobatches);
    s.integer("chunks", p.chunks, 1, kMaxChunksPerRank);
    if (const json* b = s.find("boundaries")) {
        if (!b->is_array())
            throw ConfigError(s.field("boundaries"), "must be an array of layer indices, got " + b->dump());
        p.boundaries.clear();
        for (std::size_t i = 0; i < b->size(); ++i) {
            const json& v = (*b)[i];
            if (!v.is_number_integer())
                throw ConfigError(s.field("boundaries") + "[" + std::to_string(i) + "]",
                                  "must be an integer layer index, got " + v.dump());
            const long long x =
                v.is_number_unsigned() && v.get<unsigned long long>() > (1ULL << 62) ? -1 : v.get<long long>();
            if (x < 1 || x > 4097)
                throw ConfigError(s.field("boundaries") + "[" + std::to_string(i) + "]",
                                  "must be a layer index in 1..4097 (a cut between two layers), got " + v.dump());
            p.boundaries.push_back(static_cast<int>(x));
        }
    }
    if (const json* r = s.find("recompute")) {
        p.recompute_all = false;
        p.recompute_chunks.clear();
        if (r->is_boolean()) {
            p.recompute_all = r->get<bool>();
        } else if (r->is_array()) {
            for (std::size_t i = 0; i < r->size(); ++i) {
                const json& v = (*r)[i];
                const std::string at = s.field("recompute") + "[" + std::to_string(i) + "]";
                if (!v.is_number_integer() || v.get<long long>() < 0 ||
                    v.get<long long>() >= static_cast<long long>(kMaxRanks) * kMaxChunksPerRank)
                    throw ConfigError(at, "must be a chunk index (0 .. stages*chunks-1), got " + v.dump());
                p.recompute_chunks.push_back(v.get<int>());
            }
        } else {
            throw ConfigError(s.field("recompute"), "must be true, false or a list of chunk indices, got " + r->dump());
        }
    }
    s.reject_unknown();
}

void read_simulator(Section& s, DeviceSpec& d) {
    double gflops = d.flops_per_s / 1e9;
    s.number("device_gflops", gflops, 0.0, 1e7, true);
    d.flops_per_s = gflops * 1e9;
    s.number("link_latency_us", d.link_latency_us, 0.0, 1e9, false);
    s.number("link_bandwidth_gbps", d.link_bandwidth_gb_per_s, 0.0, 1e7, false);
    s.reject_unknown();
}

void read_training(Section& s, TrainingConfig& t) {
    if (auto d = s.string("data")) {
        if (d->empty()) throw ConfigError(s.field("data"), "must be \"synthetic\" or a text file path, got \"\"");
        t.data = *d;
    }
    s.number("lr", t.lr, 0.0, 10.0, false);
    s.number("weight_decay", t.weight_decay, 0.0, 10.0, false);
    s.boolean("check_finite", t.check_finite);
    s.number("watchdog_s", t.watchdog_s, 0.1, 86400.0, false);
    s.reject_unknown();
}

void read_cuda(Section& s, CudaConfig& c, int stages) {
    if (const json* d = s.find("devices")) {
        if (!d->is_array())
            throw ConfigError(s.field("devices"),
                              "must be an array of GPU indices, one per pipeline rank, got " + d->dump());
        c.devices.clear();
        for (std::size_t i = 0; i < d->size(); ++i) {
            const json& v = (*d)[i];
            if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<long long>() < 0) ||
                (v.is_number_unsigned() && v.get<unsigned long long>() > 1024))
                throw ConfigError(s.field("devices") + "[" + std::to_string(i) + "]",
                                  "must be a GPU index in 0..1024, got " + v.dump());
            c.devices.push_back(v.get<int>());
        }
        if (!c.devices.empty() && static_cast<int>(c.devices.size()) != stages)  // [] = round-robin
            throw ConfigError(s.field("devices"),
                              "needs one GPU index per pipeline rank (pipeline.stages = " + std::to_string(stages) +
                                  "), got " + std::to_string(c.devices.size()));
    }
    if (auto p = s.string("precision")) {
        if (*p != "fp32" && *p != "tf32" && *p != "bf16")
            throw ConfigError(s.field("precision"), "unknown precision \"" + *p + "\" (allowed: fp32, tf32, bf16)");
        c.precision = *p;
    }
    s.reject_unknown();
}

}  // namespace

RunConfig run_config_from_json(const json& j) {
    RunConfig cfg;
    Section top(j, "");
    if (const json* m = top.find("model")) {
        Section s(*m, "model");
        read_model(s, cfg.model);
    }
    if (const json* p = top.find("pipeline")) {
        Section s(*p, "pipeline");
        read_pipeline(s, cfg.pipeline);
    }
    if (const json* d = top.find("simulator")) {
        Section s(*d, "simulator");
        read_simulator(s, cfg.simulator);
    }
    if (const json* t = top.find("training")) {
        Section s(*t, "training");
        read_training(s, cfg.training);
    }
    if (const json* c = top.find("cuda")) {
        Section s(*c, "cuda");
        read_cuda(s, cfg.cuda, cfg.pipeline.stages);
    }
    if (auto b = top.string("backend")) {
        if (*b != "sim" && *b != "cpu" && *b != "cuda")
            throw ConfigError("backend", "unknown backend \"" + *b + "\" (allowed: sim, cpu, cuda)");
        cfg.backend = *b;
    }
    top.integer("steps", cfg.steps, 1, 1'000'000);
    if (const json* sd = top.find("seed")) {
        if (!sd->is_number_integer() ||
            (sd->is_number_integer() && !sd->is_number_unsigned() && sd->get<long long>() < 0))
            throw ConfigError("seed", "must be a non-negative integer, got " + sd->dump());
        cfg.seed = sd->get<std::uint64_t>();
    }
    top.reject_unknown();
    return cfg;
}

RunConfig parse_run_config(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        // nlohmann's message carries line and column: keep it.
        throw ConfigError(source, std::string("not valid JSON: ") + e.what());
    }
    return run_config_from_json(j);
}

RunConfig load_run_config(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    if (!in || !(ss << in.rdbuf())) throw ConfigError(path, "cannot read file");
    RunConfig cfg = parse_run_config(ss.str(), path);
    cfg.base_dir = parent_dir(path);
    return cfg;
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string resolve_data_path(const RunConfig& cfg) {
    const std::string& d = cfg.training.data;
    if (d == "synthetic" || d.empty() || d.front() == '/' || cfg.base_dir.empty()) return d;
    return cfg.base_dir + "/" + d;
}

json run_config_to_json(const RunConfig& c) {
    json pipeline = {{"schedule", std::string(to_string(c.pipeline.schedule))},
                     {"stages", c.pipeline.stages},
                     {"microbatches", c.pipeline.microbatches},
                     {"chunks", c.pipeline.chunks}};
    if (!c.pipeline.boundaries.empty()) pipeline["boundaries"] = c.pipeline.boundaries;
    if (c.pipeline.recompute_all)
        pipeline["recompute"] = true;
    else if (!c.pipeline.recompute_chunks.empty())
        pipeline["recompute"] = c.pipeline.recompute_chunks;
    return {{"model",
             {{"vocab", c.model.vocab},
              {"d_model", c.model.d_model},
              {"heads", c.model.heads},
              {"layers", c.model.layers},
              {"d_ff", c.model.d_ff},
              {"seq_len", c.model.seq_len},
              {"microbatch_size", c.model.microbatch_size}}},
            {"pipeline", std::move(pipeline)},
            {"simulator",
             {{"device_gflops", c.simulator.flops_per_s / 1e9},
              {"link_latency_us", c.simulator.link_latency_us},
              {"link_bandwidth_gbps", c.simulator.link_bandwidth_gb_per_s}}},
            {"training",
             {{"data", c.training.data},
              {"lr", c.training.lr},
              {"weight_decay", c.training.weight_decay},
              {"check_finite", c.training.check_finite},
              {"watchdog_s", c.training.watchdog_s}}},
            {"cuda", {{"devices", c.cuda.devices}, {"precision", c.cuda.precision}}},
            {"backend", c.backend},
            {"steps", c.steps},
            {"seed", c.seed}};
}

std::vector<bool> PipelineConfig::recompute_mask(int n_chunks) const {
    std::vector<bool> mask(static_cast<std::size_t>(std::max(n_chunks, 0)), recompute_all);
    for (int c : recompute_chunks)
        if (c >= 0 && c < n_chunks) mask[static_cast<std::size_t>(c)] = true;
    return mask;
}

Plan make_plan(const RunConfig& cfg) {
    Plan plan;
    if (auto too_big = check_model_size(cfg.model)) throw ConfigError("model", *too_big);
    plan.layers = build_layers(cfg.model);
    plan.cost = cost_model_from_flops(cfg.model, cfg.simulator);
    const int n_layers = static_cast<int>(plan.layers.size());
    const PipelineConfig& pc = cfg.pipeline;
    const ScheduleSpec spec{pc.schedule, pc.stages, pc.microbatches, pc.chunks};
    if (auto problem = check_schedule_spec(spec, n_layers))
        throw ConfigError("pipeline." + problem->field, problem->message);

    const int n_chunks = pc.stages * pc.chunks;
    if (pc.boundaries.empty()) {
        plan.partition = balanced_by_cost(plan.cost, n_chunks);
    } else {
        plan.partition = partition_from_cuts(n_layers, pc.boundaries);
        if (auto err = check_partition(plan.partition, n_chunks)) throw ConfigError("pipeline.boundaries", *err);
    }
    plan.schedule = make_schedule(spec, n_layers);
    for (int c : pc.recompute_chunks)
        if (c >= n_chunks)
            throw ConfigError("pipeline.recompute",
                              "chunk " + std::to_string(c) + " does not exist: the pipeline has " +
                                  std::to_string(n_chunks) + " chunks (0.." + std::to_string(n_chunks - 1) + ")");
    if (pc.recompute_all || !pc.recompute_chunks.empty())
        plan.schedule = add_recompute(plan.schedule, pc.recompute_mask(n_chunks));
    if (auto err = validate_schedule(plan.schedule))
        throw ConfigError("pipeline.schedule", "generated schedule is invalid: " + err->what());
    return plan;
}

bool same_run_config(const RunConfig& a, const RunConfig& b) {
    return run_config_to_json(a) == run_config_to_json(b) && a.base_dir == b.base_dir;
}

}  // namespace pipelab
