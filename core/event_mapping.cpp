#include "core/event_mapping.h"

#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/kineto_trace.h"
#include "core/schedule.h"

namespace pipelab {

using nlohmann::json;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::optional<long long> read_number(std::string_view s) {
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

bool in_range(const Action& a) { return a.chunk < kMaxRanks * kMaxChunksPerRank && a.microbatch < kMaxMicrobatches; }

// PyTorch's schedule runtime also marks these; they are not actions of our IR.
constexpr std::array<std::string_view, 6> kBookkeeping = {"UNSHARD",          "RESHARD",     "REDUCE_GRAD",
                                                          "WAIT_REDUCE_GRAD", "WAIT_SEND_F", "WAIT_SEND_B"};

NameMeaning classify_pp(std::string_view text) {
    NameMeaning m;
    if (starts_with(text, "(")) {  // "(0F1;3B0)OVERLAP_F_B"
        const auto close = text.find(')');
        if (close == std::string_view::npos || text.substr(close + 1) != "OVERLAP_F_B") {
            m.role = NameRole::UnknownAction;
            return m;
        }
        std::string_view inner = text.substr(1, close - 1);
        while (!inner.empty()) {
            const auto semi = inner.find(';');
            const auto a = parse_action(inner.substr(0, semi));
            if (!a || !is_compute(a->kind) || !in_range(*a)) {
                m.role = NameRole::UnknownAction;
                return m;
            }
            m.sub.push_back(*a);
            inner = semi == std::string_view::npos ? std::string_view() : inner.substr(semi + 1);
        }
        m.role = m.sub.empty() ? NameRole::UnknownAction : NameRole::Overlap;
        return m;
    }
    if (const auto a = parse_action(text)) {
        m.role = in_range(*a) ? NameRole::Action : NameRole::UnknownAction;
        m.action = *a;
        return m;
    }
    // "<stage><KIND>[<microbatch>]" with a kind we do not run.
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    std::size_t k = i;
    while (k < text.size() && (text[k] == '_' || (text[k] >= 'A' && text[k] <= 'Z'))) ++k;
    const std::string_view kind = text.substr(i, k - i);
    m.role = NameRole::UnknownAction;
    if (i > 0)
        for (auto b : kBookkeeping)
            if (kind == b) m.role = NameRole::Bookkeeping;
    return m;
}

}  // namespace

NameMeaning classify_pytorch_name(std::string_view name) {
    NameMeaning m;
    if (starts_with(name, "PP:")) return classify_pp(name.substr(3));
    if (starts_with(name, "ProfilerStep#")) {
        if (const auto n = read_number(name.substr(13))) {
            m.role = NameRole::Step;
            m.step = *n;
        }
        return m;
    }
    for (const auto& [prefix, kind] :
         {std::pair<std::string_view, ActionKind>{"Forward ", ActionKind::F}, {"Backward ", ActionKind::B}}) {
        if (!starts_with(name, prefix)) continue;
        const auto n = read_number(name.substr(prefix.size()));
        if (n && *n < kMaxMicrobatches) {
            m.role = NameRole::RankAction;
            m.action = {kind, 0, static_cast<std::int32_t>(*n)};
        }
        return m;
    }
    if (name == "gloo:send" || name == "nccl:send")
        m.role = NameRole::SendSpan;
    else if (name == "gloo:recv" || name == "nccl:recv")
        m.role = NameRole::RecvSpan;
    else if (name == "c10d::send")
        m.role = NameRole::SendPost;
    else if (name == "c10d::recv_" || name == "c10d::recv_any_source_")
        m.role = NameRole::RecvPost;
    else if (starts_with(name, "autograd::engine::evaluate_function"))
        m.role = NameRole::BackwardOp;
    else if (starts_with(name, "Optimizer."))
        m.role = NameRole::Optimizer;
    return m;
}

// ---- mapping files ------------------------------------------------------------------------

namespace {

// std::regex has no named groups: rewrite (?<name>...) and (?P<name>...) as plain groups
// and remember which number each name got. Throws std::invalid_argument on a broken name.
std::string strip_named_groups(std::string_view p, std::map<std::string, int>& groups) {
    std::string out;
    out.reserve(p.size());
    int count = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            out += p.substr(i, 2);
            ++i;
        } else if (c == '[') {  // a class: parentheses inside are literal
            std::size_t j = i + 1;
            if (j < p.size() && p[j] == '^') ++j;
            if (j < p.size() && p[j] == ']') ++j;
            while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
            out += p.substr(i, std::min(j, p.size() - 1) - i + 1);
            i = std::min(j, p.size() - 1);
        } else if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
            std::size_t name_at = std::string_view::npos;
            if (p.substr(i + 2, 1) == "<" && p.substr(i + 3, 1) != "=" && p.substr(i + 3, 1) != "!") name_at = i + 3;
            if (p.substr(i + 2, 2) == "P<") name_at = i + 4;
            if (name_at == std::string_view::npos) {
                out += c;  // (?: (?= (?!: not capturing
                continue;
            }
            const auto close = p.find('>', name_at);
            if (close == std::string_view::npos || close == name_at)
                throw std::invalid_argument("unterminated group name");
            const std::string name(p.substr(name_at, close - name_at));
            if (groups.count(name)) throw std::invalid_argument("group \"" + name + "\" named twice");
            groups[name] = ++count;
            out += '(';
            i = close;
        } else {
            if (c == '(') ++count;
            out += c;
        }
    }
    return out;
}

struct Pattern {
    std::regex re;
    std::map<std::string, int> groups;
};

Pattern compile(const json& j, const std::string& where) {
    if (!j.is_string() || j.get<std::string>().empty())
        throw ImportError(where + " must be a non-empty string (a regular expression)");
    Pattern p;
    try {
        p.re = std::regex(strip_named_groups(j.get<std::string>(), p.groups), std::regex::ECMAScript);
    } catch (const std::exception& e) {
        throw ImportError(where + ": not a valid regular expression " + j.dump() + " (" + e.what() + ")");
    }
    return p;
}

ActionKind kind_from(const json& j, const std::string& where) {
    const auto k = j.is_string() ? parse_action_kind(j.get<std::string>()) : std::nullopt;
    if (!k)
        throw ImportError(where + " must be an action kind (F, B, I, W, SEND_F, RECV_F, SEND_B, RECV_B), got " +
                          j.dump());
    return *k;
}

void allow_keys(const json& obj, std::initializer_list<std::string_view> keys, const std::string& where) {
    for (const auto& [k, v] : obj.items()) {
        bool ok = false;
        for (auto a : keys) ok = ok || k == a;
        if (!ok) throw ImportError(where + ": unknown key \"" + k + "\"");
    }
}

// Regex searches are linear in the name for sane patterns but may recurse deeply on
// long names; real event names are short.
constexpr std::size_t kMaxMatchedName = 1024;

}  // namespace

struct EventMapping::Rules {
    struct ActionRule {
        Pattern pattern;
        std::optional<ActionKind> kind;
        std::map<std::string, ActionKind> kinds;
    };
    std::vector<ActionRule> actions;
    std::optional<Pattern> step, send, recv;
};

EventMapping::EventMapping() = default;
EventMapping::~EventMapping() = default;
EventMapping::EventMapping(EventMapping&&) noexcept = default;
EventMapping& EventMapping::operator=(EventMapping&&) noexcept = default;

bool EventMapping::has_rules() const { return m_rules != nullptr; }

EventMapping EventMapping::from_json(const json& j, const std::string& source) {
    const std::string at = source + ": ";
    if (!j.is_object()) throw ImportError(at + "a mapping file holds a JSON object");
    allow_keys(j, {"framework", "actions", "step", "send", "recv"}, source);
    EventMapping m;
    m.m_rules = std::make_unique<Rules>();
    if (j.contains("framework")) {
        if (!j["framework"].is_string() || j["framework"].get<std::string>().empty())
            throw ImportError(at + "\"framework\" must be a non-empty string");
        m.m_framework = j["framework"].get<std::string>().substr(0, 64);
    } else {
        m.m_framework = "custom";
    }
    if (j.contains("actions")) {
        const json& acts = j["actions"];
        if (!acts.is_array()) throw ImportError(at + "\"actions\" must be an array of rules");
        for (std::size_t i = 0; i < acts.size(); ++i) {
            const std::string where = at + "actions[" + std::to_string(i) + "]";
            const json& r = acts[i];
            if (!r.is_object()) throw ImportError(where + " must be an object with \"pattern\"");
            allow_keys(r, {"pattern", "kind", "kinds"}, where);
            if (!r.contains("pattern")) throw ImportError(where + " needs \"pattern\"");
            Rules::ActionRule rule{compile(r["pattern"], where + ".pattern"), std::nullopt, {}};
            if (!rule.pattern.groups.count("microbatch"))
                throw ImportError(where + ".pattern needs a group (?<microbatch>\\d+)");
            if (r.contains("kind"))
                rule.kind = kind_from(r["kind"], where + ".kind");
            else if (!rule.pattern.groups.count("kind"))
                throw ImportError(where + " needs \"kind\" or a group (?<kind>...) in the pattern");
            if (r.contains("kinds")) {
                if (!r["kinds"].is_object()) throw ImportError(where + ".kinds must map names to kinds");
                for (const auto& [text, k] : r["kinds"].items())
                    rule.kinds[text] = kind_from(k, where + ".kinds." + text);
            }
            m.m_rules->actions.push_back(std::move(rule));
        }
    }
    if (j.contains("step")) m.m_rules->step = compile(j["step"], at + "step");
    if (j.contains("send")) m.m_rules->send = compile(j["send"], at + "send");
    if (j.contains("recv")) m.m_rules->recv = compile(j["recv"], at + "recv");
    return m;
}

EventMapping EventMapping::from_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ImportError("cannot open mapping file " + path);
    json j;
    try {
        j = json::parse(in);
    } catch (const std::exception& e) {
        throw ImportError(path + ": not valid JSON: " + e.what());
    }
    return from_json(j, path);
}

NameMeaning EventMapping::classify(std::string_view name) const {
    if (m_rules && name.size() <= kMaxMatchedName) {
        const std::string text(name);
        std::smatch mt;
        const auto group = [&](const Pattern& p, const char* g) -> std::optional<std::string> {
            const auto it = p.groups.find(g);
            if (it == p.groups.end() || !mt[static_cast<std::size_t>(it->second)].matched) return std::nullopt;
            return mt[static_cast<std::size_t>(it->second)].str();
        };
        for (const auto& rule : m_rules->actions) {
            if (!std::regex_search(text, mt, rule.pattern.re)) continue;
            NameMeaning m;
            std::optional<ActionKind> kind = rule.kind;
            if (const auto k = group(rule.pattern, "kind")) {
                const auto it = rule.kinds.find(*k);
                kind = it != rule.kinds.end() ? std::optional(it->second) : parse_action_kind(*k);
            }
            // -1: absent or not a number (plain values: GCC misreads optionals here).
            const auto number = [&](const char* g) {
                const auto digits = group(rule.pattern, g);
                return digits ? read_number(*digits).value_or(-1) : -1LL;
            };
            const long long mb = number("microbatch");
            const bool has_stage = group(rule.pattern, "stage").has_value();
            const long long stage = has_stage ? number("stage") : 0;
            if (!kind || mb < 0 || mb >= kMaxMicrobatches || stage < 0 || stage >= kMaxRanks * kMaxChunksPerRank) {
                m.role = NameRole::UnknownAction;  // matched, but the groups do not read
                return m;
            }
            m.action = {*kind, static_cast<std::int32_t>(stage), static_cast<std::int32_t>(mb)};
            m.role = has_stage ? NameRole::Action : NameRole::RankAction;
            if (m.role == NameRole::RankAction && !is_compute(*kind)) m.role = NameRole::UnknownAction;
            return m;
        }
        if (m_rules->step && std::regex_search(text, mt, m_rules->step->re)) {
            NameMeaning m;
            m.role = NameRole::Step;
            if (const auto s = group(*m_rules->step, "step")) m.step = read_number(*s).value_or(-1);
            return m;
        }
        if (m_rules->send && std::regex_search(text, mt, m_rules->send->re)) return {NameRole::SendSpan, {}, {}, -1};
        if (m_rules->recv && std::regex_search(text, mt, m_rules->recv->re)) return {NameRole::RecvSpan, {}, {}, -1};
    }
    return classify_pytorch_name(name);
}

}  // namespace pipelab
