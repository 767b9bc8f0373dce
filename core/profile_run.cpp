#include "core/profile_run.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <sched.h>
#include <unistd.h>

#include "core/backend.h"
#include "core/cost_model.h"
#include "core/validate.h"

namespace pipelab {

Schedule profiling_schedule(int n_layers, int repeats) {
    Schedule s;
    s.name = "profile";
    s.n_ranks = 1;
    s.n_microbatches = repeats;
    s.chunk_rank.assign(static_cast<std::size_t>(n_layers), 0);
    s.ranks.resize(1);
    auto& row = s.ranks[0];
    // One microbatch at a time through the whole model: F up, then I and W down, as a
    // schedule's B runs them; only one microbatch's activations are ever held.
    for (int mb = 0; mb < repeats; ++mb) {
        for (int c = 0; c < n_layers; ++c) row.push_back({ActionKind::F, c, mb});
        for (int c = n_layers - 1; c >= 0; --c) {
            row.push_back({ActionKind::I, c, mb});
            row.push_back({ActionKind::W, c, mb});
        }
    }
    return s;
}

LinkProfile measure_link(Device& device, const std::vector<std::int64_t>& sizes, int round_trips,
                         const std::atomic<bool>* cancel) {
    LinkProfile link;
    for (const std::int64_t bytes : sizes) {
        std::mutex mu;
        std::condition_variable cv;
        int turn = 0;  // 0: rank 0 sends, 1: rank 1 answers
        bool stop = false;
        std::vector<double> one_way;
        DeviceBuffer b1;
        std::thread answer([&] {
            device.begin_step(1);
            DeviceBuffer mine = device.allocate(1, bytes);
            {
                std::lock_guard lk(mu);
                b1 = mine;
            }
            cv.notify_all();
            for (;;) {
                std::unique_lock lk(mu);
                cv.wait(lk, [&] { return turn == 1 || stop; });
                if (stop) break;
                lk.unlock();
                // The message has arrived when its copy is visible to this rank.
                device.end_step(1);
                device.begin_step(1);
                lk.lock();
                turn = 0;
                lk.unlock();
                cv.notify_all();
            }
            device.end_step(1);
            device.release(1, mine);
        });
        device.begin_step(0);
        DeviceBuffer b0 = device.allocate(0, bytes);
        {
            std::unique_lock lk(mu);
            cv.wait(lk, [&] { return b1.data != nullptr; });
        }
        for (int k = 0; k < round_trips + 2; ++k) {
            if (cancel && cancel->load()) break;
            const auto t0 = std::chrono::steady_clock::now();
            const std::uint64_t ticket = device.copy_to_rank(0, 1, b0, b1, 0);
            device.wait_for_copy(1, ticket);
            {
                std::lock_guard lk(mu);
                turn = 1;
            }
            cv.notify_all();
            {
                std::unique_lock lk(mu);
                cv.wait(lk, [&] { return turn == 0; });
            }
            const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
            // The answer carries no data: the round trip is one message plus one wake-up.
            if (k >= 2) one_way.push_back(us);
        }
        {
            std::lock_guard lk(mu);
            stop = true;
        }
        cv.notify_all();
        answer.join();
        device.end_step(0);
        device.release(0, b0);
        if (cancel && cancel->load()) throw RunCancelled();
        const TimeStat st = time_stat(one_way);
        if (st.samples > 0) link.samples.push_back({bytes, st.median_us});
    }
    fit_link(link);
    return link;
}

std::string machine_name() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::string cpu;
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) cpu = line.substr(line.find_first_not_of(' ', colon + 1));
            break;
        }
    }
    std::string out = host[0] ? host : "unknown host";
    if (!cpu.empty()) out += " (" + cpu + ")";
    return out;
}

int usable_cores() {
    // The cores this process may run on (taskset, containers), not all the machine has.
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Profile measure_profile(const RunConfig& cfg_in, const ProfileOptions& opts, RunControl& control, Device* link_device) {
    if (auto too_big = check_model_size(cfg_in.model)) throw ConfigError("model", *too_big);
    RunConfig cfg = cfg_in;
    Plan plan;
    plan.layers = build_layers(cfg.model);
    plan.cost = cost_model_from_flops(cfg.model, cfg.simulator);
    const int n = static_cast<int>(plan.layers.size());
    plan.partition.n_layers = n;
    for (int l = 0; l <= n; ++l) plan.partition.bounds.push_back(l);
    plan.schedule = profiling_schedule(n, opts.repeats);
    if (auto err = validate_schedule(plan.schedule))
        throw std::logic_error("profiling schedule is invalid: " + err->what());
    cfg.pipeline.stages = 1;
    cfg.pipeline.chunks = n;
    cfg.pipeline.microbatches = opts.repeats;
    cfg.pipeline.boundaries.clear();
    cfg.pipeline.recompute_all = false;
    cfg.pipeline.recompute_chunks.clear();
    if (!cfg.cuda.devices.empty()) cfg.cuda.devices.resize(1);
    cfg.steps = opts.warmup_steps + 1;  // the last step's timeline is the measurement
    cfg.training.check_finite = false;

    std::vector<std::vector<double>> f(static_cast<std::size_t>(n)), i(f), w(f);
    // The caller's control (its cancel flag), with the progress lines relabelled.
    struct Restore {
        RunControl& c;
        std::function<void(int, int, const std::string&)> saved;
        ~Restore() { c.on_progress = std::move(saved); }
    } restore{control, control.on_progress};
    const int total = cfg.steps + (link_device ? 1 : 0);
    if (restore.saved)
        control.on_progress = [&](int step, int, const std::string& status) {
            restore.saved(step, total, "layers: " + status);
        };
    const RunResult r = run_backend(cfg, plan, control);
    control.on_progress = restore.saved;
    if (control.cancel.load()) throw RunCancelled();
    // run_backend keeps the last step's timeline; with repeats microbatches it holds
    // `repeats` samples of each action, after warm-up steps that filled the pools.
    for (const TimelineEvent& e : r.timeline.events) {
        auto* bucket = e.kind == ActionKind::F   ? &f
                       : e.kind == ActionKind::I ? &i
                       : e.kind == ActionKind::W ? &w
                                                 : nullptr;
        if (bucket) (*bucket)[static_cast<std::size_t>(e.chunk)].push_back(e.duration_us());
    }

    Profile p;
    p.machine = machine_name();
    p.cores = usable_cores();
    p.backend = cfg.backend;
    p.date = utc_now();
    p.repeats = opts.repeats;
    p.model = cfg.model;
    for (int l = 0; l < n; ++l) {
        LayerProfile lp;
        lp.name = plan.layers[static_cast<std::size_t>(l)].name;
        lp.f = time_stat(f[static_cast<std::size_t>(l)]);
        lp.i = time_stat(i[static_cast<std::size_t>(l)]);
        lp.w = time_stat(w[static_cast<std::size_t>(l)]);
        // A layer too fast for the clock still costs something: never a zero time.
        for (TimeStat* s : {&lp.f, &lp.i, &lp.w}) s->median_us = std::max(s->median_us, 0.01);
        lp.activation_bytes = plan.cost.layers[static_cast<std::size_t>(l)].activation_bytes;
        lp.pending_bytes = plan.cost.layers[static_cast<std::size_t>(l)].pending_bytes;
        p.layers.push_back(std::move(lp));
    }
    if (cfg.backend == "cpu" && p.cores > 1 && opts.measure_slots) {
        // `cores` copies of a short profiling run at once: how much slower each runs than
        // alone says how many single-thread speeds the machine really gives us.
        RunConfig small = cfg;
        const int reps = std::max(2, opts.repeats / 2);
        small.pipeline.microbatches = reps;
        small.steps = 2;
        Plan sp = plan;
        sp.schedule = profiling_schedule(n, reps);
        std::vector<double> per_copy(static_cast<std::size_t>(p.cores), 0.0);
        std::vector<std::exception_ptr> errors(static_cast<std::size_t>(p.cores));
        std::vector<std::thread> copies;
        for (int c = 0; c < p.cores; ++c)
            copies.emplace_back([&, c] {
                try {
                    RunControl rc;
                    const RunResult rr = run_backend(small, sp, rc);
                    double busy = 0;
                    for (const TimelineEvent& e : rr.timeline.events)
                        if (is_compute(e.kind)) busy += e.duration_us();
                    per_copy[static_cast<std::size_t>(c)] = busy / reps;
                } catch (...) {
                    errors[static_cast<std::size_t>(c)] = std::current_exception();
                }
            });
        for (auto& t : copies) t.join();
        for (auto& e : errors)
            if (e) std::rethrow_exception(e);
        double alone = 0;
        for (const LayerProfile& l : p.layers) alone += l.f.median_us + l.i.median_us + l.w.median_us;
        const double together = time_stat(per_copy).median_us;
        if (together > 0) p.parallel_slots = std::clamp(p.cores * alone / together, 1.0, static_cast<double>(p.cores));
        if (control.on_progress) control.on_progress(cfg.steps, total, "cores measured");
    }
    if (link_device) {
        std::vector<std::int64_t> sizes = opts.link_sizes;
        if (sizes.empty()) {
            const std::int64_t msg = std::max<std::int64_t>(plan.cost.message_bytes, 4096);
            sizes = {4096, msg / 4, msg, 4 * msg};
        }
        p.link = measure_link(*link_device, sizes, opts.link_round_trips, &control.cancel);
        if (control.on_progress) control.on_progress(total, total, "transfers fitted");
    }
    return p;
}

}  // namespace pipelab
