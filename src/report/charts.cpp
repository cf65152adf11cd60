// The report's figures in page order, by section: the measured-and-estimated
// configurations, the simulated ones (each with their own scales), then what is common
// (request lengths, power traces). Also the layout helpers every builder shares.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "chart_builders.hpp"

namespace jouleperf::report {

namespace detail {

using nlohmann::json;

json vega_lite(const std::string& description) {
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"}, {"description", description}};
}

json quant(const char* field, const char* title, bool log) {
  json e = {{"field", field}, {"type", "quantitative"}, {"title", title}};
  if (log) e["scale"] = {{"type", "log"}};
  return e;
}

json nominal(const char* field, const char* title) { return {{"field", field}, {"type", "nominal"}, {"title", title}}; }

Grid layout(std::size_t panels, int preferred_width, int preferred_height, int extra_width, int max_width,
            int max_height) {
  Grid g;
  const int n = static_cast<int>(std::max<std::size_t>(panels, 1));
  const int fit = std::max(1, max_width / (preferred_width + extra_width));
  g.columns = std::min(n, fit);
  g.width = std::max(90, std::min(preferred_width, max_width / g.columns - extra_width));
  const int rows = (n + g.columns - 1) / g.columns;
  // Each row adds its header and axis (about 70 px) to the plot's height.
  g.height = std::max(60, std::min(preferred_height, max_height / rows - 70));
  return g;
}

json select_param(const std::string& name, const json& options, const std::string& label) {
  return {{"name", name},
          {"value", options.empty() ? json(nullptr) : options.front()},
          {"bind", {{"input", "select"}, {"options", options}, {"name", label}}}};
}

bool spans_orders(const std::vector<std::pair<std::string, double>>& values, double factor) {
  std::map<std::string, std::vector<double>> by;
  for (const auto& [k, v] : values)
    if (v > 0.0 && std::isfinite(v)) by[k].push_back(v);
  double lo = 0.0, hi = 0.0;
  for (auto& [k, v] : by) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    const double m = v[v.size() / 2];
    lo = lo == 0.0 ? m : std::min(lo, m);
    hi = std::max(hi, m);
  }
  return lo > 0.0 && hi / lo > factor;
}

namespace {

// A config is simulated when its engine is the simulator or any of its cells is simulated.
std::set<std::string> simulated_configs(const ReportData& data) {
  std::set<std::string> out;
  for (const auto& c : data.configs)
    if (c.engine == "sim") out.insert(c.name);
  for (const auto& c : data.cells)
    if (c.simulated) out.insert(c.key.config);
  return out;
}

bool flag(const json& body, const char* key) {
  const auto it = body.find(key);
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

ReportData part_of(const ReportData& data, bool simulated) {
  const auto sim = simulated_configs(data);
  auto in_part = [&](const std::string& config) { return (sim.count(config) > 0) == simulated; };
  ReportData out;
  for (const auto& c : data.configs)
    if (in_part(c.name)) out.configs.push_back(c);
  for (const auto& c : data.cells)
    if (in_part(c.key.config)) out.cells.push_back(c);
  for (const auto& a : data.artifacts) {
    if (a.kind == "estimate" && a.body.is_object()) {
      const auto configs = a.body.find("configs");
      if (configs == a.body.end() || !configs->is_array()) {
        if (!simulated) out.artifacts.push_back(a);  // malformed: the measured part reports it
        continue;
      }
      study::Artifact copy = a;
      json kept = json::array();
      for (const auto& e : *configs)
        if (!e.is_object() || flag(e, "simulated") == simulated) kept.push_back(e);
      if (kept.empty()) continue;
      copy.body["configs"] = std::move(kept);
      out.artifacts.push_back(std::move(copy));
    } else if (a.kind == "replay" || a.kind == "power-trace") {
      if (!a.body.is_object() || flag(a.body, "simulated") == simulated) out.artifacts.push_back(a);
    } else if (a.kind == "study") {
      out.artifacts.push_back(a);
    }
  }
  return out;
}

bool has_content(const ReportData& data) {
  return !data.configs.empty() || !data.cells.empty() || !data.of_kind("estimate").empty() ||
         !data.of_kind("replay").empty();
}

namespace {

// The figures of one part, ids prefixed, in the order a reader asks: the workload energy
// and savings first, then what explains them.
Result<std::vector<Chart>> part_charts(const ReportData& part, const std::string& section, const std::string& prefix) {
  std::vector<Chart> out;
  for (auto* build : {&table4_chart, &savings_chart}) {
    auto c = build(part);
    if (!c) return c.error();
    out.push_back(std::move(*c));
  }
  out.push_back(energy_per_batch_chart(part));
  out.push_back(phase_share_chart(part));
  out.push_back(energy_per_token_chart(part));
  auto lat = latency_energy_chart(part);
  if (!lat) return lat.error();
  out.push_back(std::move(*lat));
  for (auto& c : out) {
    c.id = prefix + c.id;
    c.section = section;
  }
  return out;
}

}  // namespace

}  // namespace detail

Result<std::vector<Chart>> build_charts(const ReportData& data) {
  std::vector<Chart> charts;
  const ReportData measured = detail::part_of(data, false);
  const ReportData simulated = detail::part_of(data, true);
  // The measured part is always shown (its "not run" notes say what is missing).
  if (detail::has_content(measured) || !detail::has_content(simulated)) {
    auto part = detail::part_charts(measured, kSectionMeasured, "");
    if (!part) return part.error();
    for (auto& c : *part) charts.push_back(std::move(c));
  }
  if (detail::has_content(simulated)) {
    auto part = detail::part_charts(simulated, kSectionSimulated, "sim-");
    if (!part) return part.error();
    for (auto& c : *part) charts.push_back(std::move(c));
  }
  for (auto* build : {&detail::lengths_chart, &detail::power_chart, &detail::request_energy_chart}) {
    auto c = build(data);
    if (!c) return c.error();
    c->section = kSectionCommon;
    charts.push_back(std::move(*c));
  }
  return charts;
}

}  // namespace jouleperf::report
