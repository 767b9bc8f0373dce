#include "core/profile.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/run_config.h"

namespace pipelab {

using nlohmann::json;

namespace {

constexpr const char* kFormat = "pipelab-profile";
constexpr int kVersion = 1;

json stat_json(const TimeStat& s) {
    return {{"median_us", s.median_us}, {"spread_us", s.spread_us}, {"samples", s.samples}};
}

const json& need(const json& j, const std::string& key, const std::string& field) {
    const auto it = j.find(key);
    if (it == j.end()) throw ConfigError(field + (field.empty() ? "" : ".") + key, "missing");
    return *it;
}

std::string join(const std::string& field, const std::string& key) { return field.empty() ? key : field + "." + key; }

void need_object(const json& j, const std::string& field) {
    if (!j.is_object()) throw ConfigError(field.empty() ? "profile" : field, "must be a JSON object, got " + j.dump());
}

// A time: finite and > 0 (a zero or negative time would make the simulator lie).
double positive_time(const json& j, const std::string& key, const std::string& field) {
    const json& v = need(j, key, field);
    const std::string f = join(field, key);
    if (!v.is_number()) throw ConfigError(f, "must be a number, got " + v.dump());
    const double x = v.get<double>();
    if (!std::isfinite(x)) throw ConfigError(f, "must be finite, got " + v.dump());
    if (!(x > 0)) throw ConfigError(f, "must be > 0, got " + v.dump());
    return x;
}

double non_negative(const json& j, const std::string& key, const std::string& field) {
    const json& v = need(j, key, field);
    const std::string f = join(field, key);
    if (!v.is_number()) throw ConfigError(f, "must be a number, got " + v.dump());
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < 0) throw ConfigError(f, "must be a finite number >= 0, got " + v.dump());
    return x;
}

long long integer(const json& j, const std::string& key, const std::string& field, long long lo, long long hi) {
    const json& v = need(j, key, field);
    const std::string f = join(field, key);
    if (!v.is_number_integer()) throw ConfigError(f, "must be an integer, got " + v.dump());
    if (v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi))
        throw ConfigError(f, "must be <= " + std::to_string(hi) + ", got " + v.dump());
    const long long x = v.get<long long>();
    if (x < lo || x > hi)
        throw ConfigError(f, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v.dump());
    return x;
}

std::string text(const json& j, const std::string& key, const std::string& field) {
    const json& v = need(j, key, field);
    if (!v.is_string()) throw ConfigError(join(field, key), "must be a string, got " + v.dump());
    return v.get<std::string>();
}

TimeStat read_stat(const json& j, const std::string& field) {
    need_object(j, field);
    TimeStat s;
    s.median_us = positive_time(j, "median_us", field);
    s.spread_us = non_negative(j, "spread_us", field);
    s.samples = static_cast<int>(integer(j, "samples", field, 1, 1 << 30));
    return s;
}

}  // namespace

TimeStat time_stat(std::vector<double> v) {
    TimeStat s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    const auto q = [&](double f) {
        const double x = f * static_cast<double>(v.size() - 1);
        const auto lo = static_cast<std::size_t>(x);
        const std::size_t hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (v[hi] - v[lo]) * (x - static_cast<double>(lo));
    };
    s.median_us = q(0.5);
    s.spread_us = (q(0.75) - q(0.25)) / 2;
    s.samples = static_cast<int>(v.size());
    return s;
}

void fit_link(LinkProfile& link) {
    const auto n = static_cast<double>(link.samples.size());
    if (link.samples.empty()) return;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const LinkSample& s : link.samples) {
        const auto x = static_cast<double>(s.bytes);
        sx += x;
        sy += s.us;
        sxx += x * x;
        sxy += x * s.us;
    }
    const double den = n * sxx - sx * sx;
    double slope = den > 0 ? (n * sxy - sx * sy) / den : 0.0;  // us per byte
    double icpt = (sy - slope * sx) / n;
    if (slope <= 0) {  // no measurable bandwidth term: all latency
        slope = 0;
        icpt = sy / n;
    }
    if (icpt < 0) {  // through the origin
        icpt = 0;
        slope = sxx > 0 ? sxy / sxx : 0.0;
    }
    link.latency_us = icpt;
    link.bandwidth_bytes_per_us = slope > 0 ? 1.0 / slope : 0.0;
}

json profile_to_json(const Profile& p) {
    json layers = json::array();
    for (const LayerProfile& l : p.layers)
        layers.push_back({{"name", l.name},
                          {"f", stat_json(l.f)},
                          {"i", stat_json(l.i)},
                          {"w", stat_json(l.w)},
                          {"activation_bytes", l.activation_bytes},
                          {"pending_bytes", l.pending_bytes}});
    json samples = json::array();
    for (const LinkSample& s : p.link.samples) samples.push_back({{"bytes", s.bytes}, {"us", s.us}});
    const ModelConfig& m = p.model;
    return {{"format", kFormat},
            {"version", kVersion},
            {"machine", p.machine},
            {"cores", p.cores},
            {"parallel_slots", p.parallel_slots},
            {"backend", p.backend},
            {"date", p.date},
            {"repeats", p.repeats},
            {"model",
             {{"vocab", m.vocab},
              {"d_model", m.d_model},
              {"heads", m.heads},
              {"layers", m.layers},
              {"d_ff", m.d_ff},
              {"seq_len", m.seq_len},
              {"microbatch_size", m.microbatch_size}}},
            {"layers", std::move(layers)},
            {"link",
             {{"latency_us", p.link.latency_us},
              {"bandwidth_bytes_per_us", p.link.bandwidth_bytes_per_us},
              {"samples", std::move(samples)}}}};
}

Profile profile_from_json(const json& j) {
    need_object(j, "");
    if (text(j, "format", "") != kFormat)
        throw ConfigError("format", "must be \"" + std::string(kFormat) + "\" (not a PipeLab profile)");
    const long long version = integer(j, "version", "", 1, 1 << 20);
    if (version != kVersion)
        throw ConfigError("version", "version " + std::to_string(version) + " is not supported (this build reads " +
                                         std::to_string(kVersion) + ")");
    Profile p;
    p.machine = text(j, "machine", "");
    p.cores = static_cast<int>(integer(j, "cores", "", 1, 1 << 20));
    if (j.contains("parallel_slots")) {
        p.parallel_slots = non_negative(j, "parallel_slots", "");
        if (p.parallel_slots > p.cores)
            throw ConfigError("parallel_slots",
                              "must be <= cores (" + std::to_string(p.cores) + "), got " + j["parallel_slots"].dump());
    }
    p.backend = text(j, "backend", "");
    if (p.backend != "cpu" && p.backend != "cuda")
        throw ConfigError("backend", "must be \"cpu\" or \"cuda\", got \"" + p.backend + "\"");
    p.date = text(j, "date", "");
    p.repeats = static_cast<int>(integer(j, "repeats", "", 1, 1 << 20));
    const json& model = need(j, "model", "");
    need_object(model, "model");
    p.model = run_config_from_json(json{{"model", model}}).model;  // same checks and messages as a config
    const json& layers = need(j, "layers", "");
    if (!layers.is_array()) throw ConfigError("layers", "must be an array, got " + layers.dump());
    const auto expected = static_cast<std::size_t>(p.model.layers) + 2;
    if (layers.size() != expected)
        throw ConfigError("layers", "has " + std::to_string(layers.size()) + " entries, the model has " +
                                        std::to_string(expected) + " partition units (layers + 2)");
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const std::string f = "layers[" + std::to_string(k) + "]";
        const json& l = layers[k];
        need_object(l, f);
        LayerProfile lp;
        lp.name = text(l, "name", f);
        lp.f = read_stat(need(l, "f", f), f + ".f");
        lp.i = read_stat(need(l, "i", f), f + ".i");
        lp.w = read_stat(need(l, "w", f), f + ".w");
        lp.activation_bytes = integer(l, "activation_bytes", f, 0, 1LL << 50);
        lp.pending_bytes = integer(l, "pending_bytes", f, 0, 1LL << 50);
        p.layers.push_back(std::move(lp));
    }
    const json& link = need(j, "link", "");
    need_object(link, "link");
    p.link.latency_us = non_negative(link, "latency_us", "link");
    p.link.bandwidth_bytes_per_us = non_negative(link, "bandwidth_bytes_per_us", "link");
    if (const auto it = link.find("samples"); it != link.end()) {
        if (!it->is_array()) throw ConfigError("link.samples", "must be an array, got " + it->dump());
        for (std::size_t k = 0; k < it->size(); ++k) {
            const std::string f = "link.samples[" + std::to_string(k) + "]";
            need_object((*it)[k], f);
            p.link.samples.push_back({integer((*it)[k], "bytes", f, 0, 1LL << 50), positive_time((*it)[k], "us", f)});
        }
    }
    return p;
}

Profile parse_profile(const std::string& text_, const std::string& source) {
    json j;
    try {
        j = json::parse(text_);
    } catch (const json::parse_error& e) {
        throw ConfigError(source, std::string("not valid JSON: ") + e.what());
    }
    try {
        return profile_from_json(j);
    } catch (const ConfigError& e) {
        throw ConfigError(source + ": " + e.field, std::string(e.what()).substr(e.field.size() + 4));
    }
}

Profile load_profile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    if (!in || !(ss << in.rdbuf())) throw ConfigError(path, "cannot read profile");
    return parse_profile(ss.str(), path);
}

void save_profile(const Profile& p, const std::string& path) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << profile_to_json(p).dump(2) << '\n';
    if (!out) throw std::runtime_error("error while writing " + path);
}

std::optional<std::string> profile_mismatch(const Profile& p, const ModelConfig& m) {
    std::string diff;
    const auto cmp = [&](const char* name, int prof, int cfg) {
        if (prof == cfg) return;
        diff += std::string(diff.empty() ? "" : "; ") + "model." + name + ": profile " + std::to_string(prof) +
                ", config " + std::to_string(cfg);
    };
    cmp("vocab", p.model.vocab, m.vocab);
    cmp("d_model", p.model.d_model, m.d_model);
    cmp("heads", p.model.heads, m.heads);
    cmp("layers", p.model.layers, m.layers);
    cmp("d_ff", p.model.d_ff, m.d_ff);
    cmp("seq_len", p.model.seq_len, m.seq_len);
    cmp("microbatch_size", p.model.microbatch_size, m.microbatch_size);
    if (diff.empty()) return std::nullopt;
    return "the profile was measured on another model (" + diff + "); profile this config again";
}

CostModel apply_profile(const Profile& p, const ModelConfig& model, const CostModel& base, int n_ranks) {
    if (auto diff = profile_mismatch(p, model)) throw ConfigError("profile", *diff);
    if (p.layers.size() != base.layers.size())
        throw ConfigError("profile.layers", "has " + std::to_string(p.layers.size()) + " layers, the model " +
                                                std::to_string(base.layers.size()));
    CostModel cm = base;
    for (std::size_t l = 0; l < p.layers.size(); ++l) {
        LayerCost& c = cm.layers[l];
        c.fwd_us = p.layers[l].f.median_us;
        c.bwd_input_us = p.layers[l].i.median_us;
        c.bwd_weight_us = p.layers[l].w.median_us;
        c.activation_bytes = p.layers[l].activation_bytes;
        c.pending_bytes = p.layers[l].pending_bytes;
    }
    cm.link.latency_us = p.link.latency_us;
    cm.link.bandwidth_bytes_per_us = p.link.bandwidth_bytes_per_us;
    cm.rank_device.clear();
    cm.device_slots.clear();
    if (p.backend == "cpu" && n_ranks > 0) {
        // Every rank is a thread of one process: they share the machine's cores.
        cm.rank_device.assign(static_cast<std::size_t>(n_ranks), 0);
        const double slots = p.parallel_slots >= 1 ? p.parallel_slots : static_cast<double>(p.cores);
        cm.device_slots.assign(1, slots);
    }
    return cm;
}

}  // namespace pipelab
