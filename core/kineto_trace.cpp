#include "core/kineto_trace.h"

#include <cmath>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace pipelab {

namespace {

using json = nlohmann::json;

// Times: Kineto writes µs relative to baseTimeNanoseconds (~1e13 after months of uptime);
// older versions wrote wall-clock µs (~1.8e15). 1e17 µs is three thousand years.
constexpr double kMaxTs = 1e17;
constexpr double kMaxDur = 1e12;  // 11 days

std::optional<KinetoCat> category(std::string_view cat) {
    if (cat == "cpu_op" || cat == "Operator") return KinetoCat::CpuOp;
    if (cat == "user_annotation") return KinetoCat::UserAnnotation;
    if (cat == "cuda_runtime" || cat == "cuda_driver" || cat == "Runtime") return KinetoCat::Runtime;
    if (cat == "kernel" || cat == "gpu_memcpy" || cat == "gpu_memset" || cat == "Kernel" || cat == "Memcpy" ||
        cat == "Memset")
        return KinetoCat::Kernel;
    // Noise for the importer: Python stacks (many), flows, the profiler's own spans, and
    // the GPU-side copies of record_function ranges (the CPU ones carry the same names).
    if (cat == "python_function" || cat == "fwdbwd" || cat == "ac2g" || cat == "Trace" ||
        cat == "gpu_user_annotation" || cat == "cpu_instant_event" || cat == "overhead")
        return std::nullopt;
    return KinetoCat::Other;
}

// Where a SAX value lands: the kind of container it is in.
enum class Ctx : std::uint8_t { Top, TopArray, Events, Event, Args, Dist, DevProps, DevProp, Ignore };

// The fields of the event being read; reset at each event's start.
struct Pending {
    std::string ph, cat, name, pid, tid;
    std::optional<double> ts, dur;
    bool ts_bad = false, dur_bad = false;
    std::int64_t correlation = -1;
    std::optional<double> allocated;
    std::int32_t device_type = 0;
};

class Handler : public nlohmann::json_sax<json> {
public:
    Handler(KinetoTrace& out, const std::atomic<bool>* cancel) : m_out(out), m_cancel(cancel) {}

    std::string error;       // set when the handler stops the parse
    bool cancelled = false;  // the parse stopped because `cancel` was set

    bool null() override { return value_done(); }
    bool boolean(bool) override { return value_done(); }
    bool number_integer(number_integer_t v) override { return number(static_cast<double>(v), true, v); }
    bool number_unsigned(number_unsigned_t v) override {
        return number(static_cast<double>(v), v <= static_cast<number_unsigned_t>(INT64_MAX),
                      static_cast<std::int64_t>(v));
    }
    bool number_float(number_float_t v, const string_t&) override { return number(v, false, 0); }
    bool binary(binary_t&) override { return value_done(); }

    bool string(string_t& s) override {
        switch (top()) {
        case Ctx::Event:
            if (m_key == "ph")
                m_ev.ph = std::move(s);
            else if (m_key == "cat")
                m_ev.cat = std::move(s);
            else if (m_key == "name")
                m_ev.name = std::move(s);
            else if (m_key == "pid")
                m_ev.pid = std::move(s);
            else if (m_key == "tid")
                m_ev.tid = std::move(s);
            break;
        case Ctx::Dist:
            if (m_key == "backend") m_out.dist_backend = std::move(s);
            break;
        case Ctx::DevProp:
            if (m_key == "name" && m_out.device_name.empty()) m_out.device_name = std::move(s);
            break;
        default: break;
        }
        return value_done();
    }

    bool key(string_t& k) override {
        if (m_stack.size() == 1 && top() == Ctx::Top && k == "pipelab") m_out.pipelab_trace = true;
        m_key = std::move(k);
        return true;
    }

    bool start_object(std::size_t) override {
        Ctx next = Ctx::Ignore;
        if (m_stack.empty())
            next = Ctx::Top;
        else if (top() == Ctx::Events || top() == Ctx::TopArray)
            next = Ctx::Event;
        else if (top() == Ctx::Event && m_key == "args")
            next = Ctx::Args;
        else if (top() == Ctx::Top && m_key == "distributedInfo")
            next = Ctx::Dist;
        else if (top() == Ctx::DevProps)
            next = Ctx::DevProp;
        if (next == Ctx::Event) m_ev = Pending{};
        m_stack.push_back(next);
        return true;
    }

    bool end_object() override {
        const Ctx was = top();
        m_stack.pop_back();
        if (was == Ctx::Event) {
            if (!finish_event()) return false;
            // A relaxed load every 4096 events: cheap, and a 100 MB file stops within ms.
            if ((++m_index & 4095) == 0 && m_cancel && m_cancel->load(std::memory_order_relaxed)) {
                cancelled = true;
                return false;
            }
        }
        return value_done();
    }

    bool start_array(std::size_t) override {
        Ctx next = Ctx::Ignore;
        if (m_stack.empty())
            next = Ctx::TopArray;  // the JSON Array Format
        else if (top() == Ctx::Top && m_key == "traceEvents")
            next = Ctx::Events;
        if (next == Ctx::TopArray || next == Ctx::Events)
            m_out.has_trace_events = true;
        else if (top() == Ctx::Top && m_key == "deviceProperties")
            next = Ctx::DevProps;
        m_stack.push_back(next);
        return true;
    }

    bool end_array() override {
        m_stack.pop_back();
        return value_done();
    }

    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        // nlohmann's text reads "[json.exception.parse_error.101] parse error at line 3,
        // column 4: syntax error ..."; keep what was wrong, the byte offset says where.
        std::string what = ex.what();
        if (!what.empty() && what[0] == '[' && what.find("] ") != std::string::npos)
            what = what.substr(what.find("] ") + 2);
        if (what.rfind("parse error", 0) == 0 && what.find(": ") != std::string::npos)
            what = what.substr(what.find(": ") + 2);
        if (what.find("number overflow") != std::string::npos) what += ": times must be finite";
        error = "not valid JSON at byte " + std::to_string(position) + " (" + what + ")";
        if (what.find("unexpected end of input") != std::string::npos)
            error = "the file ends early, at byte " + std::to_string(position) + ": truncated JSON";
        return false;
    }

private:
    Ctx top() const { return m_stack.empty() ? Ctx::Ignore : m_stack.back(); }

    bool value_done() { return true; }

    bool number(double v, bool integral, std::int64_t iv) {
        switch (top()) {
        case Ctx::Top:
            if (m_key == "baseTimeNanoseconds" && integral) m_out.base_time_ns = iv;
            break;
        case Ctx::Dist:
            if (integral && iv >= 0 && iv <= 1'000'000) {
                if (m_key == "rank") m_out.rank = static_cast<int>(iv);
                if (m_key == "world_size") m_out.world_size = static_cast<int>(iv);
            } else if (m_key == "rank" || m_key == "world_size") {
                error = "distributedInfo." + m_key + " must be an integer in 0..1000000";
                return false;
            }
            break;
        case Ctx::Event:
            if (m_key == "ts") {
                m_ev.ts = v;
                m_ev.ts_bad = !std::isfinite(v) || std::abs(v) > kMaxTs;
            } else if (m_key == "dur") {
                m_ev.dur = v;
                m_ev.dur_bad = !std::isfinite(v) || v < 0 || v > kMaxDur;
            } else if (m_key == "pid") {
                m_ev.pid = std::to_string(iv);
            } else if (m_key == "tid") {
                m_ev.tid = std::to_string(iv);
            }
            break;
        case Ctx::Args:
            if (m_key == "correlation" && integral)
                m_ev.correlation = iv;
            else if (m_key == "Total Allocated")
                m_ev.allocated = v;
            else if (m_key == "Device Type" && integral && iv >= 0 && iv < 64)
                m_ev.device_type = static_cast<std::int32_t>(iv);
            break;
        default: break;
        }
        return true;
    }

    std::int32_t intern(std::unordered_map<std::string, std::int32_t>& index, std::vector<std::string>& table,
                        std::string&& s) {
        const auto it = index.find(s);
        if (it != index.end()) return it->second;
        const auto id = static_cast<std::int32_t>(table.size());
        table.push_back(s);
        index.emplace(std::move(s), id);
        return id;
    }

    bool fail_event(const std::string& what) {
        error = "event #" + std::to_string(m_index) +
                (m_ev.name.empty() ? "" : " (\"" + m_ev.name.substr(0, 80) + "\")") + ": " + what;
        return false;
    }

    bool finish_event() {
        if (m_ev.ph == "i" && m_ev.name == "[memory]") {
            if (!m_ev.allocated) return true;  // an allocator event without the total: nothing to plot
            if (!m_ev.ts || m_ev.ts_bad) return fail_event("\"ts\" must be a finite number within +-1e17");
            const double a = *m_ev.allocated;
            if (!std::isfinite(a) || a < 0 || a > 1e18)
                return fail_event("\"args.Total Allocated\" must be a finite byte count");
            m_out.memory.push_back({*m_ev.ts, static_cast<std::int64_t>(a), m_ev.device_type});
            return true;
        }
        if (m_ev.ph != "X") return true;
        const auto cat = category(m_ev.cat);
        if (!cat) return true;
        if (!m_ev.ts) return fail_event("missing \"ts\"");
        if (m_ev.ts_bad) return fail_event("\"ts\" must be a finite number within +-1e17");
        if (!m_ev.dur) return fail_event("missing \"dur\"");
        if (m_ev.dur_bad) return fail_event("\"dur\" must be a finite number in 0..1e12 µs");
        KinetoEvent e;
        e.ts = *m_ev.ts;
        e.dur = *m_ev.dur;
        e.cat = *cat;
        e.correlation = m_ev.correlation;
        if (e.cat == KinetoCat::Kernel) {
            if (e.correlation < 0) return true;  // cannot be attributed to anything
        } else {
            e.name = intern(m_names, m_out.names, std::move(m_ev.name));
            e.thread = intern(m_threads, m_out.threads, m_ev.pid + "/" + m_ev.tid);
        }
        m_out.events.push_back(e);
        return true;
    }

    KinetoTrace& m_out;
    std::vector<Ctx> m_stack;
    std::string m_key;
    Pending m_ev;
    const std::atomic<bool>* m_cancel = nullptr;
    std::size_t m_index = 0;
    std::unordered_map<std::string, std::int32_t> m_names, m_threads;
};

}  // namespace

KinetoTrace read_kineto_trace(std::istream& in, const std::string& source, const std::atomic<bool>* cancel) {
    KinetoTrace t;
    t.source = source;
    Handler h(t, cancel);
    bool ok = false;
    try {
        ok = json::sax_parse(in, &h);
    } catch (const std::exception& e) {  // nlohmann reports some input errors by exception
        throw ImportError(source + ": not a readable JSON trace: " + e.what());
    }
    if (h.cancelled) throw ImportCancelled();
    if (!ok) throw ImportError(source + ": " + (h.error.empty() ? "not a JSON trace" : h.error));
    return t;
}

KinetoTrace read_kineto_trace_file(const std::string& path, const std::atomic<bool>* cancel) {
    std::unique_ptr<InputFile> in;
    try {
        in = std::make_unique<InputFile>(path);
    } catch (const FileError& e) {
        throw ImportError(e.what());
    }
    // zlib's messages start with the path; a stream that stops early is the usual cause.
    const auto gzip_error = [&] {
        std::string why = in->error();
        if (why.rfind(path + ": ", 0) == 0) why = why.substr(path.size() + 2);
        return ImportError(path + ": the gzip stream is truncated or corrupt (" + why + ")");
    };
    try {
        KinetoTrace t = read_kineto_trace(*in, path, cancel);
        if (!in->error().empty()) throw gzip_error();
        return t;
    } catch (const ImportCancelled&) {
        throw;
    } catch (const ImportError& e) {
        // A broken gzip stream shows up as a JSON error where it stopped: say why instead.
        if (!in->error().empty()) throw gzip_error();
        throw;
    }
}

}  // namespace pipelab
