#pragma once
// Builders for small torch.profiler-like traces, written as JSON text and read back
// through the importer's stream reader, so a test states exactly which events a rank had.
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/kineto_trace.h"

namespace pipelab::test {

struct Ev {
    std::string name;
    double ts = 0, dur = 0;
    std::string cat = "user_annotation";
    nlohmann::json args = nullptr;
    int tid = 1;
};

inline Ev ann(const std::string& name, double ts, double dur) { return {name, ts, dur}; }
inline Ev op(const std::string& name, double ts, double dur) { return {name, ts, dur, "cpu_op"}; }

// One rank's trace document: distributedInfo, baseTimeNanoseconds, the events.
inline nlohmann::json rank_doc(int rank, int world, long long base_ns, const std::vector<Ev>& evs) {
    nlohmann::json events = nlohmann::json::array();
    events.push_back(
        {{"ph", "M"}, {"name", "process_name"}, {"pid", 100 + rank}, {"tid", 0}, {"args", {{"name", "python"}}}});
    for (const Ev& e : evs) {
        nlohmann::json j = {{"ph", "X"},    {"cat", e.cat}, {"name", e.name}, {"pid", 100 + rank},
                            {"tid", e.tid}, {"ts", e.ts},   {"dur", e.dur}};
        if (!e.args.is_null()) j["args"] = e.args;
        events.push_back(j);
    }
    return {{"schemaVersion", 1},
            {"distributedInfo", {{"backend", "gloo"}, {"rank", rank}, {"world_size", world}}},
            {"baseTimeNanoseconds", base_ns},
            {"traceEvents", events}};
}

inline KinetoTrace read_doc(const nlohmann::json& doc, const std::string& name) {
    std::istringstream in(doc.dump());
    return read_kineto_trace(in, name);
}

inline KinetoTrace read_text(const std::string& text, const std::string& name = "mem.json") {
    std::istringstream in(text);
    return read_kineto_trace(in, name);
}

// A two-rank, one-microbatch step in PyTorch's multi-stage style (times in µs):
//   rank 0: 0F0 [0,10], posts SEND_F0 at 10.5, posts RECV_B0 at 12.2 and waits until 40
//           inside 0B0 [13,60]: its compute is [40,60];
//   rank 1: posts RECV_F0 at 0.2 and waits until 12 inside 1F0 [1,22]: compute [12,22];
//           1B0 [22,38], posts SEND_B0 at 38.2.
// Busy: rank 0 10 + 20, rank 1 10 + 16; step 0..60.
inline std::vector<Ev> pp_rank0(double shift = 0, const std::string& step = "ProfilerStep#1") {
    std::vector<Ev> e = {ann(step, -1, 100),           ann("PP:0F0", 0, 10),         ann("PP:0SEND_F0", 10, 2),
                         op("c10d::send", 10.5, 1),    ann("gloo:send", 11, 50),     ann("PP:0RECV_B0", 12, 1),
                         op("c10d::recv_", 12.2, 0.6), ann("gloo:recv", 12.5, 27.5), ann("PP:0B0", 13, 47),
                         ann("PP:0UNSHARD", 61, 1)};
    for (auto& x : e) x.ts += shift;
    return e;
}
inline std::vector<Ev> pp_rank1(double shift = 0, const std::string& step = "ProfilerStep#1") {
    std::vector<Ev> e = {ann(step, -1, 100),          ann("PP:1RECV_F0", 0, 1),    op("c10d::recv_", 0.2, 0.6),
                         ann("gloo:recv", 0.5, 11.5), ann("PP:1F0", 1, 21),        ann("PP:1B0", 22, 16),
                         ann("PP:1SEND_B0", 38, 1),   op("c10d::send", 38.2, 0.6), ann("gloo:send", 38.7, 5)};
    for (auto& x : e) x.ts += shift;
    return e;
}

}  // namespace pipelab::test
