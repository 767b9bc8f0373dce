// pipelab-cli: the headless front end. Every command reads a config (or a schedule),
// runs the core, prints a report and writes what was asked for.
//   exit 0 success, 1 runtime failure (I/O), 2 bad usage or bad input.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/builtin_backends.h"
#include "app/cli_check.h"
#include "app/cli_tune.h"
#include "core/backend.h"
#include "core/kineto_import.h"
#include "core/report.h"
#include "core/run_config.h"
#include "core/simulator.h"
#include "core/stats.h"
#include "core/executor.h"
#include "core/trace_io.h"
#include "core/validate.h"

#if PIPELAB_HAVE_GPU
#include "gpu/device_info.h"
#endif

using namespace pipelab;
using nlohmann::json;

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

const char* kUsage = R"(pipelab-cli - pipeline-parallelism laboratory (headless)

usage:
  pipelab-cli simulate [--config FILE] [overrides] [outputs]
      Simulate one training step from the cost model and print the report and an
      ASCII Gantt chart.
  pipelab-cli run [--config FILE] [--backend sim|cpu|cuda] [--steps N] [overrides] [outputs]
      Train for real on the chosen backend (cpu: one thread per rank), print the
      loss per step and the measured bubble beside the formula.
  pipelab-cli schedule [--config FILE] [overrides] [--out FILE]
      Print (or save as JSON) the generated schedule: one action list per rank.
  pipelab-cli validate --schedule-file FILE
      Check a schedule JSON (as written by 'schedule --out'); exit 2 naming the rank,
      action and problem when it is broken.
  pipelab-cli import FILE|FOLDER... [--step N] [--mapping FILE] [--schedule-out FILE] [outputs]
      Open a real pipeline job: one torch.profiler trace per rank (.json or .json.gz,
      or a folder of them). Prints the same report as simulate for one training step
      (default: the last one every rank completed), the order each rank ran and the
      schedule it matches. --mapping reads other frameworks' event names (see README);
      --schedule-out saves the order as a schedule file to edit and simulate.
  pipelab-cli profile [--config FILE] [--backend cpu|cuda] [--out profile.json] [--repeats N]
      Measure every layer's F, I and W time (median and spread over N microbatches),
      its activation and I->W bytes, and the transfer cost between ranks (latency and
      bandwidth fitted over a few message sizes) on a real backend; write a profile.
  pipelab-cli partition [--config FILE] [--profile P] [--schedule S] [overrides]
                        [--memory-cap 2GiB] [--apply]
      Find the stage boundaries that minimise the predicted step time of the schedule
      under a per-rank memory cap; print them with the gain over the balanced default.
      --apply writes them into the config file.
  pipelab-cli devices
      List the backends (and why one is unavailable) and the CUDA devices.
  pipelab-cli check --backend cuda|cpu [--fixtures DIR]
      PASS/FAIL per item: one step's loss and gradients against the CPU engine's
      fixtures for every schedule, training lowers the loss, ranks overlap. Exit 77
      (skipped) when the backend cannot run here.
  pipelab-cli --help | --version | COMMAND --help

overrides (take precedence over the config file):
  --schedule NAME   --stages P   --microbatches M   --chunks V
      NAME: gpipe, 1f1b, interleaved, bfs, interleaved-zb, zb-h1, zb-h2, zb-v, dualpipev,
      zb-greedy (alias zb); zb-v and dualpipev default to --chunks 2
  --boundaries 3,6,9                  (interior layer cuts, stages*chunks-1 of them)
  --schedule-file FILE                (simulate: run this schedule JSON instead)
  --profile FILE                      (simulate, partition: costs from a measured profile)

outputs:
  --trace OUT.json       Chrome trace (open in https://ui.perfetto.dev); OUT.json.gz gzipped
  --stats-json OUT.json  figures for scripts
  --width N              ASCII Gantt width in columns (default 100), --no-gantt to omit
)";

// One command's usage: its paragraph of kUsage, then the shared blocks (overrides,
// outputs) when the command takes them. Empty for an unknown command.
std::string command_usage(const std::string& cmd, bool takes_overrides, bool takes_outputs) {
    std::istringstream in(kUsage);
    std::string line, paragraph, overrides, outputs;
    std::string* into = nullptr;
    while (std::getline(in, line)) {
        const bool head = line.rfind("  pipelab-cli ", 0) == 0;
        if (head) {
            const std::string rest = line.substr(14);
            into = rest.compare(0, cmd.size(), cmd) == 0 && (rest.size() == cmd.size() || rest[cmd.size()] == ' ')
                       ? &paragraph
                       : nullptr;
        } else if (line.rfind("overrides", 0) == 0) {
            into = &overrides;
        } else if (line.rfind("outputs", 0) == 0) {
            into = &outputs;
        } else if (line.empty() || line[0] != ' ') {
            into = nullptr;
        }
        if (into) *into += line + "\n";
    }
    if (paragraph.empty()) return {};
    std::string text = "usage:\n" + paragraph;
    if (takes_overrides) text += "\n" + overrides;
    if (takes_outputs) text += "\n" + outputs;
    return text;
}

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Args {
    std::string command;
    std::map<std::string, std::string> values;  // --flag VALUE
    std::vector<std::string> files;             // positional arguments (import)
    bool no_gantt = false;

    bool has(const std::string& k) const { return values.count(k) > 0; }
    std::string get(const std::string& k, const std::string& def = "") const {
        const auto it = values.find(k);
        return it == values.end() ? def : it->second;
    }
};

const std::map<std::string, std::vector<std::string>> kFlags = {
    {"simulate",
     {"config", "schedule", "stages", "microbatches", "chunks", "boundaries", "schedule-file", "profile", "trace",
      "stats-json", "width"}},
    {"run",
     {"config", "backend", "steps", "schedule", "stages", "microbatches", "chunks", "boundaries", "trace", "stats-json",
      "width"}},
    {"schedule", {"config", "schedule", "stages", "microbatches", "chunks", "boundaries", "out"}},
    {"validate", {"schedule-file"}},
    {"import", {"step", "mapping", "schedule-out", "trace", "stats-json", "width"}},
    {"devices", {}},
    {"profile", {"config", "backend", "out", "repeats"}},
    {"partition", {"config", "profile", "schedule", "stages", "microbatches", "chunks", "memory-cap"}},
};

Args parse_args(int argc, char** argv) {
    Args a;
    if (argc < 2)
        throw UsageError("missing command (simulate, run, schedule, validate, import, profile, partition or devices)");
    a.command = argv[1];
    const auto flags = kFlags.find(a.command);
    if (flags == kFlags.end()) throw UsageError("unknown command \"" + a.command + "\"");
    for (int i = 2; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--no-gantt" && (a.command == "simulate" || a.command == "run" || a.command == "import")) {
            a.no_gantt = true;
            continue;
        }
        if (arg == "--apply" && a.command == "partition") {
            a.values["apply"] = "1";
            continue;
        }
        if (arg.rfind("--", 0) != 0) {
            if (a.command != "import") throw UsageError("unexpected argument \"" + arg + "\"");
            a.files.push_back(arg);  // "-" or a name starting with one dash is a file too
            continue;
        }
        std::string name = arg.substr(2), value;
        const auto eq = name.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        // Known-ness first: a misspelt flag must not be reported as missing its value.
        bool known = false;
        for (const auto& f : flags->second) known = known || f == name;
        if (!known) throw UsageError("unknown option --" + name + " for '" + a.command + "'");
        if (!inline_value) {
            if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
            value = argv[++i];
        }
        if (a.values.count(name)) throw UsageError("--" + name + " given twice");
        a.values[name] = value;
    }
    return a;
}

long long parse_int(const std::string& flag, const std::string& text) {
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size())
        throw UsageError("--" + flag + ": expected an integer, got \"" + text + "\"");
    return v;
}

json read_json_file(const std::string& path, const std::string& what) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path, "cannot open " + what);
    try {
        return json::parse(in);
    } catch (const json::parse_error& e) {
        throw ConfigError(path, std::string("not valid JSON: ") + e.what());
    } catch (const std::exception& e) {  // e.g. a directory: the read itself fails
        throw ConfigError(path, "cannot read " + what + ": " + e.what());
    }
}

// The config file with the command-line overrides written into it, so that both go
// through the same validation and messages.
RunConfig config_from_args(const Args& a) {
    json j = a.has("config") ? read_json_file(a.get("config"), "config file") : json::object();
    if (!j.is_object()) throw ConfigError(a.get("config"), "must hold a JSON object");
    if (!j.contains("pipeline")) j["pipeline"] = json::object();
    json& p = j["pipeline"];
    if (!p.is_object()) throw ConfigError("pipeline", "must be a JSON object, got " + p.dump());
    if (a.has("schedule")) p["schedule"] = a.get("schedule");
    if (a.has("backend")) j["backend"] = a.get("backend");
    if (a.has("steps")) j["steps"] = parse_int("steps", a.get("steps"));
    for (const char* k : {"stages", "microbatches", "chunks"})
        if (a.has(k)) p[k] = parse_int(k, a.get(k));
    if (a.has("boundaries")) {
        // "3,6,9": every item an integer, no empty ones (a trailing comma is a typo).
        json cuts = json::array();
        const std::string text = a.get("boundaries");
        std::size_t from = 0;
        for (;;) {
            const std::size_t comma = text.find(',', from);
            cuts.push_back(parse_int("boundaries", text.substr(from, comma - from)));
            if (comma == std::string::npos) break;
            from = comma + 1;
        }
        p["boundaries"] = cuts;
    }
    RunConfig cfg = run_config_from_json(j);
    if (a.has("config")) cfg.base_dir = parent_dir(a.get("config"));
    return cfg;
}

void write_json(const json& j, const std::string& path) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << j.dump(2) << '\n';
    if (!out) throw std::runtime_error("error while writing " + path);
}

Schedule load_schedule(const std::string& path) {
    const json j = read_json_file(path, "schedule file");
    try {
        return schedule_from_json(j);
    } catch (const std::runtime_error& e) {
        throw ConfigError(path, e.what());
    }
}

// Report, ASCII Gantt and the requested files for a finished run.
int gantt_width(const Args& a) {
    const long long width = a.has("width") ? parse_int("width", a.get("width")) : 100;
    if (width < 10 || width > 10000) throw UsageError("--width must be in 10..10000, got " + a.get("width"));
    return static_cast<int>(width);
}

int report_run(const Args& a, const Timeline& tl, const std::vector<double>& losses, const json& extra = {}) {
    const Stats st = compute_stats(tl);
    std::cout << text_report(st, tl.meta.backend);
    if (!a.no_gantt) std::cout << '\n' << ascii_gantt(tl, gantt_width(a));
    if (a.has("trace")) {
        write_chrome_trace(tl, a.get("trace"));
        std::cout << "trace written to " << a.get("trace") << " (" << tl.events.size() << " events)\n";
    }
    if (a.has("stats-json")) {
        json j = stats_to_json(st);
        j["backend"] = tl.meta.backend;
        if (!losses.empty()) {
            j["loss"] = losses.back();
            j["losses"] = losses;
        }
        if (extra.is_object()) j.update(extra);
        write_json(j, a.get("stats-json"));
        std::cout << "stats written to " << a.get("stats-json") << "\n";
    }
    return kExitOk;
}

int cmd_simulate(const Args& a) {
    gantt_width(a);  // bad flags fail before any work or output
    RunConfig cfg = config_from_args(a);
    cfg.backend = "sim";
    Plan plan = a.has("profile") ? calibrated_plan(cfg, a.get("profile")) : make_plan(cfg);
    if (a.has("schedule-file")) {
        plan.schedule = load_schedule(a.get("schedule-file"));
        if (auto err = validate_schedule(plan.schedule)) throw ConfigError(a.get("schedule-file"), err->what());
        if (plan.schedule.n_chunks() != plan.partition.n_chunks())
            throw ConfigError(a.get("schedule-file"), "schedule has " + std::to_string(plan.schedule.n_chunks()) +
                                                          " chunks, the config's partition has " +
                                                          std::to_string(plan.partition.n_chunks()));
        // The textbook formula only describes the generator's own order.
        if (!(plan.schedule.ranks == make_plan(cfg).schedule.ranks)) plan.schedule.name = "custom";
        if (!plan.cost.rank_device.empty())  // device sharing follows the file's ranks
            plan.cost.rank_device.assign(static_cast<std::size_t>(plan.schedule.n_ranks), 0);
    }
    return report_run(a, simulate(plan.schedule, plan.partition, plan.cost), {});
}

int cmd_run(const Args& a) {
    gantt_width(a);
    const RunConfig cfg = config_from_args(a);
    const Plan plan = make_plan(cfg);
    RunControl control;
    control.on_progress = [](int step, int steps, const std::string& status) {
        std::cout << "step " << step << "/" << steps << "  " << status << "\n" << std::flush;
    };
    std::cout << "running " << cfg.steps << " step(s) on backend " << cfg.backend << "\n";
    const RunResult r = run_backend(cfg, plan, control);
    if (!r.losses.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4f -> %.4f", r.losses.front(), r.losses.back());
        std::cout << "loss " << buf << " over " << r.losses.size() << " step(s); last step:\n";
    }
    return report_run(a, r.timeline, r.losses, json{{"step_times_us", r.step_times_us}});
}

int cmd_schedule(const Args& a) {
    const Plan plan = make_plan(config_from_args(a));
    if (a.has("out")) {
        write_json(schedule_to_json(plan.schedule), a.get("out"));
        std::cout << "schedule written to " << a.get("out") << " (" << plan.schedule.action_count() << " actions)\n";
    } else {
        std::cout << plan.schedule.name << ": " << plan.schedule.action_count() << " actions\n"
                  << format_schedule(plan.schedule);
    }
    return kExitOk;
}

int cmd_import(const Args& a) {
    gantt_width(a);
    if (a.files.empty())
        throw UsageError("import needs trace files or a folder: pipelab-cli import rank0.json.gz rank1.json.gz");
    ImportOptions opt;
    if (a.has("step")) opt.step = parse_int("step", a.get("step"));
    EventMapping mapping;
    if (a.has("mapping")) {
        mapping = EventMapping::from_file(a.get("mapping"));
        opt.mapping = &mapping;
    }
    const ImportResult r = import_trace_files(a.files, opt);
    std::cout << "imported " << r.files.size() << " trace file(s):";
    for (std::size_t i = 0; i < r.files.size(); ++i) std::cout << (i ? ", " : " ") << "rank " << i << " " << r.files[i];
    std::cout << "\n";
    for (const auto& note : r.notes) std::cout << "  " << note << "\n";
    std::cout << "\n";
    if (a.has("schedule-out")) {
        // Before the report: a bad path fails before any long output.
        write_json(schedule_to_json(r.order), a.get("schedule-out"));
    }
    json extra = {
        {"import",
         {{"files", r.files},
          {"step", r.step},
          {"steps", r.steps},
          {"recognised_schedule", r.recognised_schedule.empty() ? json(nullptr) : json(r.recognised_schedule)},
          {"inferred", r.inferred},
          {"clock_shift_us", r.clock_shift_us},
          {"notes", r.notes}}}};
    report_run(a, r.timeline, {}, extra);
    if (a.has("schedule-out"))
        std::cout << "order written to " << a.get("schedule-out") << " (" << r.order.action_count()
                  << " actions; edit it, then: pipelab-cli simulate --stages " << r.timeline.meta.stages
                  << " --microbatches " << r.timeline.meta.microbatches << " --chunks " << r.timeline.meta.chunks
                  << (!r.recognised_schedule.empty() ? " --schedule " + r.recognised_schedule
                      : r.timeline.meta.chunks > 1   ? std::string(" --schedule interleaved")
                                                     : std::string())
                  << " --schedule-file " << a.get("schedule-out") << ")\n";
    return kExitOk;
}

int cmd_devices() {
    for (const BackendInfo& b : list_backends())
        std::cout << (b.available ? "  [x] " : "  [ ] ") << b.name << "  " << b.label
                  << (b.available ? "" : "  -- " + b.why_not) << "\n";
#if PIPELAB_HAVE_GPU
    const gpu::DeviceList devs = gpu::list_devices();
    if (devs.devices.empty()) std::cout << "CUDA devices: none (" << devs.problem << ")\n";
    for (const auto& d : devs.devices)
        std::cout << "CUDA device " << d.index << ": " << d.name << ", sm_" << d.sm_major << d.sm_minor << ", "
                  << d.multiprocessors << " SMs, " << (d.total_bytes >> 20) << " MiB\n";
#else
    std::cout << "CUDA devices: not built with CUDA\n";
#endif
    return kExitOk;
}

int cmd_validate(const Args& a) {
    if (!a.has("schedule-file")) throw UsageError("validate needs --schedule-file FILE");
    const Schedule s = load_schedule(a.get("schedule-file"));
    if (auto err = validate_schedule(s)) {
        std::cerr << "pipelab-cli: invalid schedule " << a.get("schedule-file") << ": " << err->what() << "\n";
        return kExitUsage;
    }
    std::cout << "schedule " << s.name << " is valid: " << s.n_ranks << " ranks, " << s.n_chunks() << " chunks, "
              << s.n_microbatches << " microbatches, " << s.action_count() << " actions\n";
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 &&
        (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help")) {
        std::cout << kUsage;
        return kExitOk;
    }
    if (argc >= 2 && std::string(argv[1]) == "--version") {
        std::cout << "pipelab-cli " << PIPELAB_VERSION << "\n";
        return kExitOk;
    }
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg != "--help" && arg != "-h") continue;
        const std::string cmd = argv[1];
        const auto flags = kFlags.find(cmd);
        const auto takes = [&](const char* flag) {
            return flags != kFlags.end() &&
                   std::find(flags->second.begin(), flags->second.end(), flag) != flags->second.end();
        };
        const std::string text = command_usage(cmd, takes("stages"), takes("trace"));
        if (text.empty()) {
            std::cerr << "pipelab-cli: unknown command \"" << cmd << "\"\n(see pipelab-cli --help)\n";
            return kExitUsage;
        }
        std::cout << text;
        return kExitOk;
    }
    register_builtin_backends();
    if (argc >= 2 && std::string(argv[1]) == "check") return run_check_command(argc, argv);
    try {
        const Args a = parse_args(argc, argv);
        if (a.command == "simulate") return cmd_simulate(a);
        if (a.command == "run") return cmd_run(a);
        if (a.command == "devices") return cmd_devices();
        if (a.command == "schedule") return cmd_schedule(a);
        if (a.command == "import") return cmd_import(a);
        if (a.command == "profile") return cli_profile(config_from_args(a), a.values);
        if (a.command == "partition") return cli_partition(config_from_args(a), a.values);
        return cmd_validate(a);
    } catch (const UsageError& e) {
        std::cerr << "pipelab-cli: " << e.what() << "\n(see pipelab-cli --help)\n";
        return kExitUsage;
    } catch (const ConfigError& e) {
        std::cerr << "pipelab-cli: " << e.what() << "\n";
        return kExitUsage;
    } catch (const ImportError& e) {
        std::cerr << "pipelab-cli: cannot import: " << e.what() << "\n";
        return kExitUsage;
    } catch (const ExecutorError& e) {
        std::cerr << "pipelab-cli: run failed: " << e.what() << "\n";
        if (!e.grid.empty()) std::cerr << e.grid << "\n";
        return kExitFailure;
    } catch (const TraceError& e) {
        std::cerr << "pipelab-cli: " << e.what() << "\n";
        return kExitFailure;
    } catch (const std::exception& e) {
        std::cerr << "pipelab-cli: error: " << e.what() << "\n";
        return kExitFailure;
    }
}
