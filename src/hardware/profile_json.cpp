#include "jouleperf/hardware/profile_json.hpp"

#include <fmt/format.h>

#include <set>

namespace jouleperf::hardware {

nlohmann::json to_json(const HardwareProfile& p) {
  const PeakFlops& f = p.peak_flops;
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& [k, v] : p.sources) sources[k] = v;
  return {
      {"name", p.name},
      {"display_name", p.display_name},
      {"vendor", p.vendor},
      {"kind", device_kind_name(p.kind)},
      {"aliases", p.aliases},
      {"peak_flops", {{"fp32", f.fp32}, {"tf32", f.tf32}, {"bf16", f.bf16}, {"fp8", f.fp8}, {"int8", f.int8}}},
      {"memory_bandwidth_bps", p.memory_bandwidth_bps},
      {"memory_bytes", p.memory_bytes},
      {"tdp_w", p.tdp_w},
      {"idle_w", p.idle_w},
      {"max_clock_mhz", p.max_clock_mhz},
      {"tp_link",
       {{"name", p.tp_link.name}, {"bandwidth_bps", p.tp_link.bandwidth_bps}, {"latency_s", p.tp_link.latency_s}}},
      {"max_tp", p.max_tp},
      {"origin", p.origin},
      {"sources", sources},
  };
}

namespace {

Error parse_error(const std::string& origin, const std::string& what) {
  return make_error(Errc::kParse, fmt::format("{}: {}", origin, what));
}

// Reads a number field into `out` and notes its source; absent fields are left alone.
Status read_number(const nlohmann::json& j, const char* key, const std::string& source_key, double& out,
                   HardwareProfile& p, const std::string& default_source, const nlohmann::json& sources,
                   const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (!it->is_number()) return parse_error(where, fmt::format("'{}' must be a number", source_key));
  out = it->get<double>();
  auto s = sources.find(source_key);
  p.sources[source_key] = (s != sources.end() && s->is_string()) ? s->get<std::string>() : default_source;
  return {};
}

Status check_keys(const nlohmann::json& j, const std::set<std::string>& allowed, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it)
    if (allowed.count(it.key()) == 0) return parse_error(where, fmt::format("unknown key '{}'", it.key()));
  return {};
}

}  // namespace

Result<HardwareProfile> profile_from_json(const nlohmann::json& j, const HardwareProfile& base,
                                          const std::string& origin) {
  if (!j.is_object()) return parse_error(origin, "a profile must be a JSON object");
  const std::string where = j.contains("name") && j["name"].is_string()
                                ? fmt::format("{} (profile '{}')", origin, j["name"].get<std::string>())
                                : origin;
  if (auto st = check_keys(
          j,
          {"name", "based_on", "display_name", "vendor", "kind", "aliases", "peak_flops", "memory_bandwidth_bps",
           "memory_bytes", "tdp_w", "idle_w", "max_clock_mhz", "tp_link", "max_tp", "sources", "origin"},
          where);
      !st)
    return st.error();
  HardwareProfile p = base;
  p.origin = origin;
  const std::string dflt = fmt::format("user profile {}", origin);
  nlohmann::json sources = nlohmann::json::object();
  if (auto it = j.find("sources"); it != j.end()) {
    if (!it->is_object()) return parse_error(where, "'sources' must be an object of strings");
    sources = *it;
  }
  auto str = [&](const char* key, std::string& out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_string()) return parse_error(where, fmt::format("'{}' must be a string", key));
    out = it->get<std::string>();
    return {};
  };
  if (auto st = str("name", p.name); !st) return st.error();
  if (auto st = str("display_name", p.display_name); !st) return st.error();
  if (auto st = str("vendor", p.vendor); !st) return st.error();
  if (j.contains("name") && !j.contains("display_name")) p.display_name = p.name;
  if (j.contains("name")) p.aliases.clear();  // a renamed profile does not inherit the base's aliases
  if (auto it = j.find("kind"); it != j.end()) {
    if (!it->is_string()) return parse_error(where, "'kind' must be \"gpu\" or \"cpu\"");
    auto k = parse_device_kind(it->get<std::string>());
    if (!k) return parse_error(where, k.error().message);
    p.kind = *k;
  }
  if (auto it = j.find("aliases"); it != j.end()) {
    if (!it->is_array()) return parse_error(where, "'aliases' must be an array of strings");
    p.aliases.clear();
    for (const auto& a : *it) {
      if (!a.is_string()) return parse_error(where, "'aliases' must be an array of strings");
      p.aliases.push_back(a.get<std::string>());
    }
  }
  if (auto it = j.find("peak_flops"); it != j.end()) {
    if (!it->is_object()) return parse_error(where, "'peak_flops' must be an object");
    if (auto st = check_keys(*it, {"fp32", "tf32", "bf16", "fp16", "fp8", "int8"}, where + " peak_flops"); !st)
      return st.error();
    PeakFlops& f = p.peak_flops;
    const std::pair<const char*, double*> fields[] = {{"fp32", &f.fp32}, {"tf32", &f.tf32}, {"bf16", &f.bf16},
                                                      {"fp16", &f.bf16}, {"fp8", &f.fp8},   {"int8", &f.int8}};
    for (const auto& [key, dst] : fields) {
      const std::string skey = std::string("peak_flops.") + (std::string(key) == "fp16" ? "bf16" : key);
      if (auto st = read_number(*it, key, skey, *dst, p, dflt, sources, where); !st) return st.error();
    }
  }
  if (auto st = read_number(j, "memory_bandwidth_bps", "memory_bandwidth_bps", p.memory_bandwidth_bps, p, dflt, sources,
                            where);
      !st)
    return st.error();
  if (auto st = read_number(j, "memory_bytes", "memory_bytes", p.memory_bytes, p, dflt, sources, where); !st)
    return st.error();
  if (auto st = read_number(j, "tdp_w", "tdp_w", p.tdp_w, p, dflt, sources, where); !st) return st.error();
  if (auto st = read_number(j, "idle_w", "idle_w", p.idle_w, p, dflt, sources, where); !st) return st.error();
  if (auto st = read_number(j, "max_clock_mhz", "max_clock_mhz", p.max_clock_mhz, p, dflt, sources, where); !st)
    return st.error();
  if (auto it = j.find("tp_link"); it != j.end()) {
    if (!it->is_object()) return parse_error(where, "'tp_link' must be an object");
    if (auto st = check_keys(*it, {"name", "bandwidth_bps", "latency_s"}, where + " tp_link"); !st) return st.error();
    if (auto n = it->find("name"); n != it->end()) {
      if (!n->is_string()) return parse_error(where, "'tp_link.name' must be a string");
      p.tp_link.name = n->get<std::string>();
    }
    for (const auto& [key, dst] : {std::pair<const char*, double*>{"bandwidth_bps", &p.tp_link.bandwidth_bps},
                                   std::pair<const char*, double*>{"latency_s", &p.tp_link.latency_s}}) {
      auto v = it->find(key);
      if (v == it->end()) continue;
      if (!v->is_number()) return parse_error(where, fmt::format("'tp_link.{}' must be a number", key));
      *dst = v->get<double>();
    }
    auto s = sources.find("tp_link");
    p.sources["tp_link"] = (s != sources.end() && s->is_string()) ? s->get<std::string>() : dflt;
  }
  if (auto it = j.find("max_tp"); it != j.end()) {
    if (!it->is_number_unsigned()) return parse_error(where, "'max_tp' must be a positive integer");
    p.max_tp = it->get<std::uint32_t>();
  }
  return p;
}

}  // namespace jouleperf::hardware
