#include "core/trace_io.h"

#include "core/file_io.h"
#include "core/schedule.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <sstream>
#include <unordered_map>
#include <cmath>
#include <map>
#include <cstdio>
#include <tuple>

#include <nlohmann/json.hpp>

namespace pipelab {

using nlohmann::json;

namespace {
constexpr int kComputeTid = 0;
constexpr int kCommTid = 1;

std::string process_name(const RunMeta& meta, int rank) {
    const std::string dev = rank < static_cast<int>(meta.devices.size()) ? meta.devices[rank] : "";
    return "stage " + std::to_string(rank) + (dev.empty() ? "" : " (" + dev + ")");
}

json meta_to_json(const RunMeta& m) {
    return {
        {"schedule", m.schedule}, {"backend", m.backend},       {"stages", m.stages}, {"microbatches", m.microbatches},
        {"chunks", m.chunks},     {"chunk_rank", m.chunk_rank}, {"bounds", m.bounds}, {"devices", m.devices},
        {"notes", m.notes}};
}
}  // namespace

namespace {
// The trace text, written straight to a stream: a million actions are a few million
// events, and building a JSON object per event took ~15 µs each. Numbers use to_chars'
// shortest round-trip form, so a trace read back gives the same doubles. The one
// definition of the export: timeline_to_chrome_trace parses this text.
class TraceWriter {
public:
    explicit TraceWriter(std::ostream& out) : m_out(out) {}

    void write(const Timeline& tl) {
        m_out << "{\"traceEvents\":[\n";
        const int n_ranks = tl.meta.stages;
        for (int r = 0; r < n_ranks; ++r) {
            const std::string pname = json(process_name(tl.meta, r)).dump();
            const std::string pid = std::to_string(r);
            line("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + pid + ",\"tid\":0,\"args\":{\"name\":" + pname +
                 "}}");
            line("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + pid +
                 ",\"tid\":0,\"args\":{\"sort_index\":" + pid + "}}");
            line("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid + ",\"tid\":" + std::to_string(kComputeTid) +
                 ",\"args\":{\"name\":\"compute\"}}");
            line("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid + ",\"tid\":" + std::to_string(kCommTid) +
                 ",\"args\":{\"name\":\"p2p\"}}");
        }
        // Receives by the (kind, chunk, microbatch) of the send they match, for flow arrows.
        std::unordered_map<std::uint64_t, const TimelineEvent*> recv_of;
        for (const auto& e : tl.events) {
            if (e.kind != ActionKind::RECV_F && e.kind != ActionKind::RECV_B) continue;
            const Action send = comm_peer({e.kind, e.chunk, e.microbatch});
            recv_of[key(send.kind, send.chunk, send.microbatch)] = &e;
        }
        long long flow_id = 0;
        for (const auto& e : tl.events) {
            const bool comm = is_comm(e.kind);
            const std::string_view kind = to_string(e.kind);
            begin_event();
            raw("{\"ph\":\"X\",\"name\":\"");
            raw(kind);
            raw(" mb");
            num(e.microbatch);
            if (tl.meta.chunks > 1) {
                raw(" c");
                num(e.chunk);
            }
            raw(comm ? "\",\"cat\":\"p2p\",\"pid\":" : "\",\"cat\":\"compute\",\"pid\":");
            num(e.rank);
            raw(",\"tid\":");
            num(comm ? kCommTid : kComputeTid);
            raw(",\"ts\":");
            num(e.start_us);
            raw(",\"dur\":");
            num(e.duration_us());
            raw(",\"args\":{\"kind\":\"");
            raw(kind);
            raw("\",\"chunk\":");
            num(e.chunk);
            raw(",\"microbatch\":");
            num(e.microbatch);
            raw("}}");
            if (e.kind != ActionKind::SEND_F && e.kind != ActionKind::SEND_B) continue;
            const auto it = recv_of.find(key(e.kind, e.chunk, e.microbatch));
            if (it == recv_of.end()) continue;
            const TimelineEvent& rv = *it->second;
            ++flow_id;
            for (const bool start : {true, false}) {
                begin_event();
                raw(start ? "{\"ph\":\"s\",\"id\":" : "{\"ph\":\"f\",\"bp\":\"e\",\"id\":");
                num(flow_id);
                raw(e.kind == ActionKind::SEND_F ? ",\"name\":\"activation mb" : ",\"name\":\"gradient mb");
                num(e.microbatch);
                raw("\",\"cat\":\"p2p\",\"pid\":");
                num(start ? e.rank : rv.rank);
                raw(",\"tid\":");
                num(kCommTid);
                raw(",\"ts\":");
                num(start ? e.start_us : rv.start_us);
                raw("}");
            }
        }
        for (const auto& m : tl.memory) {
            begin_event();
            raw("{\"ph\":\"C\",\"name\":\"memory\",\"pid\":");
            num(m.rank);
            raw(",\"ts\":");
            num(m.time_us);
            raw(",\"args\":{\"params\":");
            num(m.params);
            raw(",\"grads\":");
            num(m.grads);
            raw(",\"optimizer\":");
            num(m.optimizer);
            raw(",\"activations\":");
            num(m.activations);
            raw(",\"workspace\":");
            num(m.workspace);
            raw(",\"messages\":");
            num(m.messages);
            raw("}}");
        }
        flush();
        const json footer = {{"version", 1}, {"meta", meta_to_json(tl.meta)}};
        m_out << "\n],\"displayTimeUnit\":\"ms\",\"pipelab\":" << footer.dump() << "}\n";
    }

private:
    static std::uint64_t key(ActionKind k, int chunk, int mb) {
        return (static_cast<std::uint64_t>(k) << 56) |
               (static_cast<std::uint64_t>(static_cast<std::uint32_t>(chunk)) << 28) | static_cast<std::uint32_t>(mb);
    }
    void line(const std::string& event) {
        begin_event();
        raw(event);
    }
    void begin_event() {
        if (!m_first) raw(",\n");
        m_first = false;
        if (m_buf.size() > (1u << 16)) flush();
    }
    void raw(std::string_view text) { m_buf.append(text); }
    template <typename T>
    void num(T v) {
        char tmp[32];
        const auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
        m_buf.append(tmp, res.ptr);
    }
    void num(double v) {
        if (!std::isfinite(v)) v = 0;  // JSON has no NaN/Inf; timelines never hold them
        char tmp[32];
        const auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
        m_buf.append(tmp, res.ptr);
    }
    void flush() {
        m_out.write(m_buf.data(), static_cast<std::streamsize>(m_buf.size()));
        m_buf.clear();
    }

    std::ostream& m_out;
    std::string m_buf;
    bool m_first = true;
};
}  // namespace

json timeline_to_chrome_trace(const Timeline& tl) {
    std::ostringstream text;
    TraceWriter(text).write(tl);
    return json::parse(text.str());
}

namespace {

struct Reader {
    const json& ev;
    std::size_t index;

    [[noreturn]] void fail(const std::string& what) const {
        throw TraceError("trace event #" + std::to_string(index) + ": " + what);
    }
    const json& field(const json& obj, const char* key, const char* where = "") const {
        if (!obj.is_object() || !obj.contains(key)) fail(std::string("missing \"") + where + key + "\"");
        return obj.at(key);
    }
    // Times in µs and byte counts: finite and below 1e15 (31 years, or a petabyte), so
    // that sums of them stay finite and fit the int64 fields.
    double number(const json& obj, const char* key, const char* where = "") const {
        const json& v = field(obj, key, where);
        if (!v.is_number()) fail(std::string("\"") + where + key + "\" must be a number");
        const double x = v.get<double>();
        if (!std::isfinite(x) || std::abs(x) > 1e15)
            fail(std::string("\"") + where + key + "\" must be a finite number within +-1e15, got " + v.dump());
        return x;
    }
    int integer(const json& obj, const char* key, const char* where = "") const {
        const json& v = field(obj, key, where);
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1'000'000'000)
            fail(std::string("\"") + where + key + "\" must be a non-negative integer");
        return v.get<int>();
    }
};

template <typename T>
void read_int_array(const json& meta, const char* key, std::vector<T>& out) {
    if (!meta.contains(key)) return;
    const json& a = meta.at(key);
    if (!a.is_array() || a.size() > static_cast<std::size_t>(kMaxRanks) * kMaxChunksPerRank + 1)
        throw TraceError(std::string("trace: pipelab.meta.") + key + " must be an array of at most " +
                         std::to_string(kMaxRanks * kMaxChunksPerRank + 1) + " entries");
    out.clear();
    for (const auto& v : a) {
        if constexpr (std::is_same_v<T, std::string>) {
            if (!v.is_string()) throw TraceError(std::string("trace: pipelab.meta.") + key + " must hold strings");
        } else if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1'000'000) {
            throw TraceError(std::string("trace: pipelab.meta.") + key + " must hold integers in 0..1000000");
        }
        out.push_back(v.get<T>());
    }
}

}  // namespace

Timeline timeline_from_chrome_trace(const json& trace) {
    const json* events = nullptr;
    if (trace.is_array()) {
        events = &trace;  // the JSON Array Format is a valid trace too
    } else if (trace.is_object() && trace.contains("traceEvents") && trace.at("traceEvents").is_array()) {
        events = &trace.at("traceEvents");
    } else {
        throw TraceError("trace: expected an object with a \"traceEvents\" array (Chrome trace format)");
    }

    Timeline tl;
    std::map<int, std::string> names;
    for (std::size_t i = 0; i < events->size(); ++i) {
        const json& ev = (*events)[i];
        const Reader rd{ev, i};
        if (!ev.is_object()) rd.fail("must be an object");
        const json& ph = rd.field(ev, "ph");
        if (!ph.is_string()) rd.fail("\"ph\" must be a string");
        const std::string phase = ph.get<std::string>();
        if (phase == "X") {
            if (!ev.contains("args") || !ev.at("args").contains("kind")) continue;  // not ours
            const json& args = ev.at("args");
            const json& kind = args.at("kind");
            const auto k = kind.is_string() ? parse_action_kind(kind.get<std::string>()) : std::nullopt;
            if (!k) rd.fail("args.kind " + kind.dump() + " is not an action kind (F, B, I, W, SEND_F, ...)");
            TimelineEvent e;
            e.rank = rd.integer(ev, "pid");
            if (e.rank >= kMaxRanks)
                rd.fail("\"pid\" " + std::to_string(e.rank) + " is not a rank (must be < " + std::to_string(kMaxRanks) +
                        ")");
            e.kind = *k;
            e.chunk = rd.integer(args, "chunk", "args.");
            e.microbatch = rd.integer(args, "microbatch", "args.");
            if (e.chunk >= kMaxRanks * kMaxChunksPerRank)
                rd.fail("args.chunk " + std::to_string(e.chunk) + " is out of range");
            if (e.microbatch >= kMaxMicrobatches)
                rd.fail("args.microbatch " + std::to_string(e.microbatch) + " is out of range");
            e.start_us = rd.number(ev, "ts");
            const double dur = rd.number(ev, "dur");
            if (dur < 0) rd.fail("\"dur\" must be >= 0");
            e.end_us = e.start_us + dur;
            tl.events.push_back(e);
        } else if (phase == "C" && ev.value("name", "") == "memory") {
            const json& args = rd.field(ev, "args");
            MemorySample s;
            s.rank = rd.integer(ev, "pid");
            if (s.rank >= kMaxRanks)
                rd.fail("\"pid\" " + std::to_string(s.rank) + " is not a rank (must be < " + std::to_string(kMaxRanks) +
                        ")");
            s.time_us = rd.number(ev, "ts");
            const auto bytes = [&](const char* key) {
                const double x = rd.number(args, key, "args.");
                if (x < 0) rd.fail(std::string("\"args.") + key + "\" must be >= 0");
                return static_cast<std::int64_t>(x);
            };
            s.params = bytes("params");
            s.grads = bytes("grads");
            s.optimizer = bytes("optimizer");
            s.activations = bytes("activations");
            if (args.contains("workspace")) s.workspace = bytes("workspace");
            if (args.contains("messages")) s.messages = bytes("messages");
            tl.memory.push_back(s);
        } else if (phase == "M" && ev.value("name", "") == "process_name") {
            const json& args = rd.field(ev, "args");
            const json& n = rd.field(args, "name", "args.");
            if (n.is_string()) names[rd.integer(ev, "pid")] = n.get<std::string>();
        }
    }
    if (tl.events.empty()) throw TraceError("trace: no PipeLab action events (\"ph\":\"X\" with args.kind)");

    // Views expect each rank's events in execution order.
    std::stable_sort(tl.events.begin(), tl.events.end(), [](const auto& a, const auto& b) { return a.rank < b.rank; });
    std::stable_sort(tl.memory.begin(), tl.memory.end(), [](const auto& a, const auto& b) {
        return std::tie(a.rank, a.time_us) < std::tie(b.rank, b.time_us);
    });

    int n_ranks = 0, n_chunks = 0, n_mb = 0;
    for (const auto& e : tl.events) {
        n_ranks = std::max(n_ranks, e.rank + 1);
        n_chunks = std::max(n_chunks, e.chunk + 1);
        n_mb = std::max(n_mb, e.microbatch + 1);
    }
    RunMeta& m = tl.meta;
    m.schedule = "imported";
    m.backend = "trace";
    m.stages = n_ranks;
    m.microbatches = n_mb;
    m.chunks = std::max(1, n_chunks / std::max(n_ranks, 1));
    if (trace.is_object() && trace.contains("pipelab")) {
        const json& pl = trace.at("pipelab");
        const json meta = pl.is_object() ? pl.value("meta", json::object()) : json::object();
        if (!meta.is_object()) throw TraceError("trace: \"pipelab.meta\" must be an object");
        const auto text = [&](const char* key, std::string& out) {
            if (!meta.contains(key)) return;
            if (!meta.at(key).is_string())
                throw TraceError(std::string("trace: pipelab.meta.") + key + " must be a string");
            out = meta.at(key).get<std::string>();
        };
        const auto count = [&](const char* key, int& out, int hi) {
            if (!meta.contains(key)) return;
            const json& v = meta.at(key);
            if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > hi)
                throw TraceError(std::string("trace: pipelab.meta.") + key + " must be an integer in 1.." +
                                 std::to_string(hi) + ", got " + v.dump());
            out = v.get<int>();
        };
        text("schedule", m.schedule);
        text("backend", m.backend);
        count("stages", m.stages, kMaxRanks);
        m.stages = std::max(m.stages, n_ranks);
        count("microbatches", m.microbatches, kMaxMicrobatches);
        count("chunks", m.chunks, kMaxChunksPerRank);
        read_int_array(meta, "chunk_rank", m.chunk_rank);
        read_int_array(meta, "bounds", m.bounds);
        read_int_array(meta, "devices", m.devices);
        read_int_array(meta, "notes", m.notes);
    }
    if (m.devices.empty()) {
        // Recover device names from "stage N (device)" process names.
        m.devices.assign(static_cast<std::size_t>(m.stages), "");
        for (const auto& [pid, name] : names) {
            const auto open = name.find('('), close = name.rfind(')');
            if (pid < m.stages && open != std::string::npos && close > open)
                m.devices[pid] = name.substr(open + 1, close - open - 1);
        }
    }
    return tl;
}

// Streams event by event (a large run never exists as one JSON document in memory) into
// a temporary file renamed over `path` at the end, so a failure leaves no half trace.
// A path ending in ".gz" is written gzip-compressed (Perfetto opens those as they are).
void write_chrome_trace(const Timeline& tl, const std::string& path) {
    try {
        OutputFile out(path);
        TraceWriter(out).write(tl);
        out.commit();
    } catch (const FileError&) {
        throw TraceError("cannot write trace to " + path);
    }
}

Timeline read_chrome_trace(const std::string& path) {
    json j;
    try {
        InputFile in(path);
        try {
            j = json::parse(in);
        } catch (const json::parse_error& e) {
            const std::string why = in.error().empty() ? e.what() : in.error();
            throw TraceError(path + ": not valid JSON: " + why);
        }
    } catch (const FileError& e) {
        throw TraceError(std::string("cannot open trace: ") + e.what());
    }
    try {
        return timeline_from_chrome_trace(j);
    } catch (const TraceError& e) {
        throw TraceError(path + ": " + e.what());
    } catch (const json::exception& e) {
        throw TraceError(path + ": malformed trace: " + e.what());
    }
}

}  // namespace pipelab
