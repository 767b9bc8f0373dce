#include "core/kineto_import.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "core/clock_align.h"
#include "core/kineto_rank.h"
#include "core/schedule_gen.h"
#include "core/schedule_match.h"
#include "core/trace_io.h"
#include "core/validate.h"

namespace pipelab {

namespace fs = std::filesystem;

std::vector<std::string> expand_trace_paths(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const std::string& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<std::string> found;
            for (const auto& entry : fs::directory_iterator(p, ec)) {
                const std::string name = entry.path().filename().string();
                const auto ends = [&](const std::string& suffix) {
                    return name.size() > suffix.size() &&
                           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
                };
                if (entry.is_regular_file(ec) && (ends(".json") || ends(".json.gz")))
                    found.push_back(entry.path().string());
            }
            if (ec) throw ImportError("cannot list folder " + p + ": " + ec.message());
            if (found.empty()) throw ImportError("folder " + p + " holds no *.json or *.json.gz trace");
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
        } else if (fs::exists(p, ec)) {
            out.push_back(p);
        } else {
            throw ImportError("no such file or folder: " + p);
        }
    }
    return out;
}

namespace {

std::string fmt_us(double x) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%+.1f µs", x);
    return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

const char* kNoActionsHint =
    "looked for PP:<action> ranges (multi-stage schedules), \"Forward i\"/\"Backward i\" (ScheduleGPipe), "
    "or operators with autograd backward work (Schedule1F1B); for other frameworks give a mapping file";

// One rank's file with its reader.
struct RankInput {
    const KinetoTrace* trace = nullptr;
    std::unique_ptr<RankReader> reader;
    long long global_rank = 0;
    double offset_us = 0;  // base time relative to the earliest file's
};

struct Located {
    int rank;
    const CommOp* op;
};

class Importer {
public:
    Importer(const std::vector<KinetoTrace>& traces, const ImportOptions& opt)
        : m_traces(traces), m_mapping(opt.mapping != nullptr ? *opt.mapping : m_default), m_opt(opt) {}

    ImportResult run();

private:
    void assign_ranks();
    ImportResult build(long long step);
    std::string who(int r) const { return "rank " + std::to_string(r) + " (" + m_ranks[r].trace->source + ")"; }

    const std::vector<KinetoTrace>& m_traces;
    EventMapping m_default;
    const EventMapping& m_mapping;
    ImportOptions m_opt;
    std::vector<RankInput> m_ranks;
    std::vector<std::string> m_notes;
};

void Importer::assign_ranks() {
    if (m_traces.empty()) throw ImportError("no trace files given");
    std::size_t with_rank = 0;
    for (const auto& t : m_traces) with_rank += t.rank.has_value();
    if (with_rank != 0 && with_rank != m_traces.size()) {
        for (const auto& t : m_traces)
            if (!t.rank)
                throw ImportError(t.source +
                                  ": no distributedInfo.rank, while other files have one: cannot tell its rank");
    }
    m_ranks.resize(m_traces.size());
    for (std::size_t i = 0; i < m_traces.size(); ++i) {
        m_ranks[i].trace = &m_traces[i];
        m_ranks[i].global_rank = with_rank ? *m_traces[i].rank : static_cast<long long>(i);
    }
    if (with_rank == 0 && m_traces.size() > 1)
        m_notes.push_back("no distributedInfo in the files: ranks taken in the order the files were given");
    std::stable_sort(m_ranks.begin(), m_ranks.end(), [](auto& a, auto& b) { return a.global_rank < b.global_rank; });
    for (std::size_t i = 1; i < m_ranks.size(); ++i)
        if (m_ranks[i].global_rank == m_ranks[i - 1].global_rank)
            throw ImportError("rank " + std::to_string(m_ranks[i].global_rank) +
                              " appears twice: " + m_ranks[i - 1].trace->source + " and " + m_ranks[i].trace->source);
    // Every rank of the world must be there: a pipeline with a hole cannot be read.
    std::optional<int> world;
    for (const auto& r : m_ranks) {
        const auto& w = r.trace->world_size;
        if (!w) continue;
        if (world && *world != *w)
            throw ImportError("the files disagree on the world size: " + std::to_string(*world) + " and " +
                              std::to_string(*w) + " (" + r.trace->source + "): are they from one job?");
        world = *w;
    }
    const int n = world.value_or(static_cast<int>(m_ranks.size()));
    std::vector<std::string> missing;
    std::set<long long> have;
    for (const auto& r : m_ranks) {
        if (r.global_rank >= n)
            throw ImportError(r.trace->source + ": rank " + std::to_string(r.global_rank) + " is outside world size " +
                              std::to_string(n));
        have.insert(r.global_rank);
    }
    for (int r = 0; r < n; ++r)
        if (!have.count(r)) missing.push_back(std::to_string(r));
    if (!missing.empty())
        throw ImportError("world size " + std::to_string(n) + ", but no file for rank" +
                          (missing.size() > 1 ? "s " : " ") + join(missing) +
                          ": give every rank's trace (or a folder holding them)");
    if (n > kMaxRanks)
        throw ImportError("world size " + std::to_string(n) + " exceeds PipeLab's " + std::to_string(kMaxRanks) +
                          " ranks");

    // One clock: each file's times are on its own base.
    long long base = std::numeric_limits<long long>::max();
    bool all_bases = true;
    for (const auto& r : m_ranks) {
        if (r.trace->base_time_ns)
            base = std::min(base, *r.trace->base_time_ns);
        else
            all_bases = false;
    }
    for (auto& r : m_ranks)
        if (all_bases) r.offset_us = static_cast<double>(*r.trace->base_time_ns - base) / 1000.0;
    if (!all_bases && m_ranks.size() > 1)
        m_notes.push_back("not every file has baseTimeNanoseconds: times taken as written");
    for (auto& r : m_ranks) r.reader = std::make_unique<RankReader>(*r.trace, m_mapping);
}

ImportResult Importer::run() {
    assign_ranks();
    const int p = static_cast<int>(m_ranks.size());
    std::set<long long> common;
    for (const auto& s : m_ranks[0].reader->steps()) common.insert(s.number);
    for (int r = 1; r < p; ++r) {
        std::set<long long> mine, both;
        for (const auto& s : m_ranks[r].reader->steps()) mine.insert(s.number);
        std::set_intersection(common.begin(), common.end(), mine.begin(), mine.end(), std::inserter(both, both.end()));
        common = std::move(both);
    }
    if (common.empty()) {
        std::vector<std::string> per;
        for (int r = 0; r < p; ++r) per.push_back(who(r) + " has steps " + m_ranks[r].reader->steps_text());
        throw ImportError("no step is common to all ranks (are the files from one run?): " + join(per, "; "));
    }
    std::vector<long long> tries;
    if (m_opt.step) {
        for (int r = 0; r < p; ++r) {
            const auto& st = m_ranks[r].reader->steps();
            if (std::none_of(st.begin(), st.end(), [&](auto& s) { return s.number == *m_opt.step; }))
                throw ImportError("step " + std::to_string(*m_opt.step) + ": " + who(r) + " has steps " +
                                  m_ranks[r].reader->steps_text());
        }
        tries.push_back(*m_opt.step);
    } else {
        tries.assign(common.rbegin(), common.rend());
    }
    std::vector<std::string> skipped;
    for (long long step : tries) {
        try {
            ImportResult res = build(step);
            for (const auto& s : skipped) res.notes.insert(res.notes.begin(), s);
            res.steps.assign(common.begin(), common.end());
            return res;
        } catch (const ImportError& e) {
            if (m_opt.step || step == tries.back()) {
                if (skipped.empty()) throw;
                throw ImportError(std::string(e.what()) + " (and " + join(skipped, "; ") + ")");
            }
            skipped.push_back("step " + std::to_string(step) + " skipped: " + e.what());
        }
    }
    throw ImportError("no step to import");  // unreachable: tries is never empty
}

ImportResult Importer::build(long long step) {
    const int p = static_cast<int>(m_ranks.size());
    const std::string at_step = "step " + std::to_string(step) + ": ";
    ImportResult res;
    res.step = step;
    res.notes = m_notes;
    std::vector<RankStep> rs(static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) {
        const RankReader& rd = *m_ranks[r].reader;
        const auto& steps = rd.steps();
        const auto span = std::find_if(steps.begin(), steps.end(), [&](auto& s) { return s.number == step; });
        rs[r] = rd.read_step(*span);
        res.files.push_back(m_ranks[r].trace->source);
        if (rs[r].compute.empty())
            throw ImportError(at_step + who(r) + " holds no pipeline actions: " + kNoActionsHint);
        for (auto& a : rs[r].compute)
            if (a.own_stage) a.action.chunk = r;
        for (auto& op : rs[r].comm)
            if (op.id && op.own_stage) op.id->chunk = r;
        for (const auto& n : rs[r].notes) res.notes.push_back("rank " + std::to_string(r) + ": " + n);
        res.inferred = res.inferred || rs[r].inferred;
    }

    // Chunk placement: every stage on exactly one rank, stages 0..C-1.
    std::map<int, int> chunk_rank;
    int max_mb = 0;
    for (int r = 0; r < p; ++r) {
        std::set<std::tuple<int, int, int>> seen;
        for (const auto& a : rs[r].compute) {
            const auto [it, fresh] = chunk_rank.emplace(a.action.chunk, r);
            if (!fresh && it->second != r)
                throw ImportError(at_step + "stage " + std::to_string(a.action.chunk) + " runs on rank " +
                                  std::to_string(it->second) + " and rank " + std::to_string(r));
            if (!seen.insert({static_cast<int>(a.action.kind), a.action.chunk, a.action.microbatch}).second)
                throw ImportError(at_step + who(r) + " runs " + to_string(a.action) + " twice");
            max_mb = std::max(max_mb, a.action.microbatch);
        }
    }
    const int n_chunks = chunk_rank.rbegin()->first + 1;
    for (int c = 0; c < n_chunks; ++c)
        if (!chunk_rank.count(c))
            throw ImportError(at_step + "stage " + std::to_string(c) + " appears on no rank (stages 0.." +
                              std::to_string(n_chunks - 1) + " expected)");
    // Pipeline schedules give every rank as many stages (v); anything else is files of
    // different runs or a rank that ran nothing of this step.
    std::vector<int> per_rank(static_cast<std::size_t>(p), 0);
    for (const auto& [c, r] : chunk_rank) ++per_rank[r];
    for (int r = 1; r < p; ++r)
        if (per_rank[r] != per_rank[0])
            throw ImportError(at_step + who(0) + " runs " + std::to_string(per_rank[0]) + " stage(s), " + who(r) +
                              " runs " + std::to_string(per_rank[r]) +
                              ": every rank of a pipeline runs as many "
                              "(are the files from one run?)");
    if (n_chunks > kMaxRanks * kMaxChunksPerRank || 1LL * n_chunks * (max_mb + 1) > kMaxSlots)
        throw ImportError(at_step + "too many stages x microbatches for PipeLab's limits");

    // Transfers: keep those that cross between two real ranks, pair sends with receives.
    std::map<std::tuple<int, int, int>, Located> by_id;
    int dropped = 0, unplaced = 0;
    for (int r = 0; r < p; ++r) {
        for (const CommOp& op : rs[r].comm) {
            if (!op.id) {
                ++unplaced;
                continue;
            }
            const int peer = comm_peer(*op.id).chunk;
            const int own = op.id->chunk;
            if (own < 0 || own >= n_chunks || chunk_rank[own] != r || peer < 0 || peer >= n_chunks ||
                chunk_rank[peer] == r) {
                ++dropped;
                continue;
            }
            by_id.emplace(std::tuple{static_cast<int>(op.id->kind), own, op.id->microbatch}, Located{r, &op});
        }
    }
    if (unplaced) res.notes.push_back(std::to_string(unplaced) + " transfer(s) next to no compute action: not drawn");
    if (dropped) res.notes.push_back(std::to_string(dropped) + " transfer(s) that cross no rank boundary: not drawn");
    std::vector<ClockPair> pairs;
    int unmatched = 0;
    for (const auto& [key, loc] : by_id) {
        const Action id = *loc.op->id;
        if (id.kind != ActionKind::SEND_F && id.kind != ActionKind::SEND_B) continue;
        const Action peer = comm_peer(id);
        const auto it = by_id.find({static_cast<int>(peer.kind), peer.chunk, peer.microbatch});
        if (it == by_id.end()) {
            ++unmatched;
            continue;
        }
        pairs.push_back({loc.rank, loc.op->start + m_ranks[loc.rank].offset_us, it->second.rank,
                         it->second.op->done + m_ranks[it->second.rank].offset_us});
    }
    if (unmatched) res.notes.push_back(std::to_string(unmatched) + " send(s) without their receive in the other file");
    const ClockAlignment align = align_clocks(p, pairs);
    res.clock_shift_us = align.shift_us;
    if (!align.problem.empty()) res.notes.push_back("clock alignment: " + align.problem);
    std::vector<std::string> shifts;
    for (int r = 0; r < p; ++r)
        if (align.shift_us[r] != 0) shifts.push_back("rank " + std::to_string(r) + " " + fmt_us(align.shift_us[r]));
    if (align.problem.empty())
        res.notes.push_back(
            shifts.empty()
                ? "clocks agree: " + std::to_string(pairs.size()) + " matched transfers, no rank shifted"
                : "clocks aligned on " + std::to_string(pairs.size()) + " matched transfers: " + join(shifts));

    // One clock, zero at the step's first action on any rank.
    const auto clock = [&](int r, double t) { return t + m_ranks[r].offset_us + align.shift_us[r]; };
    double t0 = std::numeric_limits<double>::infinity();
    for (int r = 0; r < p; ++r) {
        for (const auto& a : rs[r].compute) t0 = std::min(t0, clock(r, a.start));
        for (const auto& [key, loc] : by_id)
            if (loc.rank == r) t0 = std::min(t0, clock(r, loc.op->start));
    }
    Timeline& tl = res.timeline;
    bool any_memory = false;
    for (int r = 0; r < p; ++r) {
        std::vector<TimelineEvent> evs;
        for (const auto& a : rs[r].compute)
            evs.push_back({r, a.action.kind, a.action.chunk, a.action.microbatch, clock(r, a.start) - t0,
                           clock(r, std::max(a.start, a.end)) - t0});
        for (const auto& [key, loc] : by_id) {
            if (loc.rank != r) continue;
            const CommOp& op = *loc.op;
            evs.push_back({r, op.id->kind, op.id->chunk, op.id->microbatch, clock(r, op.start) - t0,
                           clock(r, std::max(op.start, op.strip_end())) - t0});
        }
        std::stable_sort(evs.begin(), evs.end(), [](auto& a, auto& b) { return a.start_us < b.start_us; });
        tl.events.insert(tl.events.end(), evs.begin(), evs.end());
        for (const auto& mp : rs[r].memory) {
            MemorySample s;
            s.rank = r;
            s.time_us = clock(r, mp.ts) - t0;
            s.activations = mp.bytes;
            tl.memory.push_back(s);
        }
        any_memory = any_memory || !rs[r].memory.empty();
    }
    if (any_memory)
        res.notes.push_back(
            "memory: the allocator's total from [memory] events, not split by category (drawn as activations)");

    // The order every rank ran, as a schedule: recognised, lowered, validated.
    Schedule order;
    order.name = "custom";
    order.n_ranks = p;
    order.n_microbatches = max_mb + 1;
    order.chunk_rank.resize(static_cast<std::size_t>(n_chunks));
    for (const auto& [c, r] : chunk_rank) order.chunk_rank[c] = r;
    order.ranks.resize(static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) {
        std::vector<const TimedAction*> byc;
        for (const auto& a : rs[r].compute) byc.push_back(&a);
        std::stable_sort(byc.begin(), byc.end(), [](auto* a, auto* b) { return a->cpu_start < b->cpu_start; });
        for (const auto* a : byc) order.ranks[r].push_back(a->action);
    }
    const auto kind = recognise_schedule(order);
    if (kind) order.name = std::string(to_string(*kind));
    order = add_send_recv(order);
    if (auto err = validate_schedule(order))
        throw ImportError(at_step + "the order read from the traces is not a valid schedule" +
                          (res.inferred ? " (it was inferred from operators; see the notes)" : std::string()) + ": " +
                          err->what());
    res.order = order;
    res.recognised_schedule = kind ? std::string(to_string(*kind)) : std::string();
    const int v = n_chunks / p;
    res.notes.insert(res.notes.begin(),
                     kind ? "order recognised as " + res.recognised_schedule
                          : "unknown order: no PipeLab schedule generates it at p=" + std::to_string(p) +
                                ", m=" + std::to_string(max_mb + 1) + ", v=" + std::to_string(v));
    if (res.inferred)
        res.notes.insert(res.notes.begin() + 1,
                         "order inferred: the schedule marks no actions, so forward runs (operators outside the "
                         "autograd engine) and backward runs (autograd::engine::evaluate_function) between "
                         "send/recv were numbered as microbatches in order; the validator accepts it");
    const bool marks = m_ranks[0].reader->step_marks();
    res.notes.insert(res.notes.begin(),
                     "step " + std::to_string(step) +
                         (marks ? "" : " (no step marks: steps found where the first action repeats)") + " of " +
                         std::to_string(m_ranks.size()) + " rank file(s)");

    RunMeta& m = tl.meta;
    m.schedule = order.name;
    m.backend = m_mapping.framework();
    m.stages = p;
    m.microbatches = max_mb + 1;
    m.chunks = v;
    m.chunk_rank = order.chunk_rank;
    for (int r = 0; r < p; ++r) {
        const KinetoTrace& t = *m_ranks[r].trace;
        std::string dev = rs[r].device_time && !t.device_name.empty() ? t.device_name : "cpu";
        if (!t.dist_backend.empty()) dev += "/" + t.dist_backend;
        m.devices.push_back(dev);
    }
    return res;
}

// A PipeLab trace read back as an import: its own metadata, no notes to add but one.
ImportResult pipelab_trace_result(const std::string& path) {
    ImportResult res;
    try {
        res.timeline = read_chrome_trace(path);
    } catch (const TraceError& e) {
        throw ImportError(e.what());
    }
    res.files = {path};
    res.notes.push_back("a PipeLab trace: read as written");
    res.clock_shift_us.assign(static_cast<std::size_t>(res.timeline.meta.stages), 0.0);
    return res;
}

}  // namespace

ImportResult import_kineto(const std::vector<KinetoTrace>& traces, const ImportOptions& opt) {
    for (const auto& t : traces)
        if (t.pipelab_trace) throw ImportError(t.source + " is a PipeLab trace: open it alone (it holds every rank)");
    ImportResult res = Importer(traces, opt).run();
    res.timeline.meta.notes = res.notes;  // so a trace written from it carries them
    return res;
}

ImportResult import_trace_files(const std::vector<std::string>& paths, const ImportOptions& opt) {
    std::vector<std::string> skipped;
    std::vector<KinetoTrace> traces;
    for (const std::string& given : paths) {
        const std::vector<std::string> files = expand_trace_paths({given});
        const bool from_folder = files.size() != 1 || files[0] != given;
        for (const auto& f : files) {
            KinetoTrace t = read_kineto_trace_file(f, opt.cancel);
            if (from_folder && !t.has_trace_events) {
                skipped.push_back("skipped " + f + ": no \"traceEvents\", not a trace");
                continue;
            }
            if (t.pipelab_trace) {
                if (paths.size() != 1 || files.size() != 1)
                    throw ImportError(f + " is a PipeLab trace: open it alone (it holds every rank)");
                return pipelab_trace_result(f);
            }
            traces.push_back(std::move(t));
        }
    }
    ImportResult res = import_kineto(traces, opt);
    res.notes.insert(res.notes.end(), skipped.begin(), skipped.end());
    res.timeline.meta.notes = res.notes;
    return res;
}

}  // namespace pipelab
