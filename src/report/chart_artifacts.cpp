// Figures drawn from the documents stored beside the cells: power over time with phase
// marks (power-trace), binned vs real length CDFs (lengths), the Table-4 comparison and
// savings (estimate).
#include <fmt/format.h>

#include <functional>

#include "chart_builders.hpp"
#include "jouleperf/report/escape.hpp"
#include "jouleperf/report/tables.hpp"
#include "json_fields.hpp"
#include "provenance.hpp"

namespace jouleperf::report::detail {

namespace {

using nlohmann::json;

std::string where(const study::Artifact& a) { return "artifact " + a.kind + "/" + a.name; }

json quant(const char* field, const char* title, bool log = false) {
  json e = {{"field", field}, {"type", "quantitative"}, {"title", title}};
  if (log) e["scale"] = {{"type", "log"}};
  return e;
}

json nominal(const char* field, const char* title) { return {{"field", field}, {"type", "nominal"}, {"title", title}}; }

// Reads the [[x, y], ...] pairs of an array; fails naming the element.
Status read_pairs(const json& a, const std::string& where, const std::function<void(double, double)>& add) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    const json& p = a[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      return make_error(Errc::kParse, fmt::format("{}[{}]: expected [tokens, cdf]", where, i));
    add(p[0].get<double>(), p[1].get<double>());
  }
  return {};
}

// One estimate document's configs, with where each came from.
struct EstimateRow {
  std::string workload;
  std::string config;
  std::optional<double> energy_j, corrected_j, ideal_j, saving_pct;
  bool estimated = false, simulated = false;
  std::string energy_source;
};

Result<std::vector<EstimateRow>> estimate_rows(const ReportData& data) {
  std::vector<EstimateRow> out;
  for (const auto* a : data.of_kind("estimate")) {
    Fields top(a->body, where(*a));
    const std::string workload = top.text("workload").value_or(a->name);
    const json* configs = top.array("configs");
    if (auto st = top.status(); !st) return st.error();
    if (configs == nullptr) continue;
    for (std::size_t i = 0; i < configs->size(); ++i) {
      Fields f((*configs)[i], where(*a) + ", configs[" + std::to_string(i) + "]");
      EstimateRow r;
      r.workload = workload;
      r.config = f.text("config").value_or("");
      r.energy_j = f.number("energy_j");
      r.corrected_j = f.number("corrected_energy_j");
      r.ideal_j = f.number("ideal_energy_j");
      r.saving_pct = f.number("saving_pct");
      r.estimated = f.boolean("estimated").value_or(false);
      r.simulated = f.boolean("simulated").value_or(false);
      r.energy_source = f.text("energy_source").value_or("");
      if (auto st = f.status(); !st) return st.error();
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

Result<Chart> power_chart(const ReportData& data) {
  Chart ch;
  ch.id = "power";
  ch.title = "Power over time, with phase marks";
  Provenance prov;
  json panels = json::array();
  for (const auto* a : data.of_kind("power-trace")) {
    Fields f(a->body, where(*a));
    const json* samples = f.array("samples");
    const json* marks = f.array("marks");
    const bool estimated = f.boolean("estimated").value_or(false);
    const bool simulated = f.boolean("simulated").value_or(false);
    const std::string source = f.text("energy_source").value_or("");
    const std::string sensor = f.text("sensor").value_or("");
    if (auto st = f.status(); !st) return st.error();
    json points = json::array();
    for (std::size_t i = 0; samples != nullptr && i < samples->size(); ++i) {
      Fields s((*samples)[i], where(*a) + ", samples[" + std::to_string(i) + "]");
      const auto t = s.number("t_s");
      const auto p = s.number("power_w");
      if (auto st = s.status(); !st) return st.error();
      if (t && p) points.push_back({{"t_s", *t}, {"power_w", *p}});
    }
    if (points.empty()) continue;
    json phase_marks = json::array();
    for (std::size_t i = 0; marks != nullptr && i < marks->size(); ++i) {
      Fields m((*marks)[i], where(*a) + ", marks[" + std::to_string(i) + "]");
      const auto t = m.number("t_s");
      const auto name = m.text("name");
      if (auto st = m.status(); !st) return st.error();
      if (t) phase_marks.push_back({{"t_s", *t}, {"phase", name.value_or("")}});
    }
    prov.add(estimated, simulated, source, sensor, a->name);
    json layers = json::array();
    layers.push_back({{"data", {{"values", points}}},
                      {"mark", {{"type", "line"}, {"interpolate", "step-after"}}},
                      {"encoding",
                       {{"x", quant("t_s", "time (s)")},
                        {"y", quant("power_w", "power (W)")},
                        {"tooltip", json::array({quant("t_s", "t (s)"), quant("power_w", "W")})}}}});
    if (!phase_marks.empty()) {
      layers.push_back({{"data", {{"values", phase_marks}}},
                        {"mark", {{"type", "rule"}, {"strokeDash", {4, 3}}}},
                        {"encoding", {{"x", quant("t_s", "time (s)")}, {"color", nominal("phase", "phase mark")}}}});
      layers.push_back(
          {{"data", {{"values", phase_marks}}},
           {"mark", {{"type", "text"}, {"align", "left"}, {"baseline", "top"}, {"dx", 3}, {"dy", 2}}},
           {"encoding", {{"x", quant("t_s", "time (s)")}, {"y", {{"value", 0}}}, {"text", {{"field", "phase"}}}}}});
    }
    panels.push_back({{"title", a->name}, {"width", 600}, {"height", 160}, {"layer", layers}});
  }
  ch.provenance = prov.line(data.sensor_note());
  if (panels.empty()) {
    ch.not_run = "Not run: the store holds no power traces (power-trace artifacts).";
    return ch;
  }
  json spec = vega_lite("Sampled power (W) over time (s) for each stored power trace; dashed rules mark phases.");
  spec["vconcat"] = panels;
  ch.spec = std::move(spec);
  return ch;
}

Result<Chart> lengths_chart(const ReportData& data) {
  Chart ch;
  ch.id = "lengths";
  ch.title = "Request lengths: real vs binned (CDF)";
  json values = json::array();
  std::vector<std::string> workloads;
  for (const auto* a : data.of_kind("lengths")) {
    Fields f(a->body, where(*a));
    const std::string workload = f.text("workload").value_or(a->name);
    const json* parts[2][2] = {{f.array("real/input"), f.array("real/output")},
                               {f.array("binned/input"), f.array("binned/output")}};
    if (auto st = f.status(); !st) return st.error();
    const char* source_name[2] = {"real", "binned"};
    const char* length_name[2] = {"input", "output"};
    bool any = false;
    for (int s = 0; s < 2; ++s) {
      for (int l = 0; l < 2; ++l) {
        if (parts[s][l] == nullptr) continue;
        const std::string at = fmt::format("{}: {}/{}", where(*a), source_name[s], length_name[l]);
        auto st = read_pairs(*parts[s][l], at, [&](double tokens, double cdf) {
          if (!(tokens > 0.0)) return;  // log axis
          values.push_back({{"workload", workload},
                            {"length", length_name[l]},
                            {"source", source_name[s]},
                            {"tokens", tokens},
                            {"cdf", cdf}});
          any = true;
        });
        if (!st) return st.error();
      }
    }
    if (any) workloads.push_back(workload);
  }
  ch.provenance =
      "Not an energy figure: request lengths from each workload's trace (real) and the same requests "
      "after ceiling binning (binned: each length raised to its bin's upper edge).";
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no length distributions (lengths artifacts).";
    return ch;
  }
  json spec = vega_lite(
      "Cumulative distribution of input and output lengths (tokens, log axis): the trace's real "
      "lengths against the binned lengths the estimate uses.");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"row", nominal("workload", "workload")}, {"column", nominal("length", "length")}};
  json y = quant("cdf", "share of requests at or below");
  y["scale"] = {{"domain", {0, 1}}};
  spec["spec"] = {{"width", 300},
                  {"height", 160},
                  {"mark", {{"type", "line"}, {"interpolate", "step-after"}}},
                  {"encoding",
                   {{"x", quant("tokens", "tokens", true)},
                    {"y", y},
                    {"color", nominal("source", "lengths")},
                    {"strokeDash", nominal("source", "lengths")}}}};
  spec["resolve"] = {{"scale", {{"x", "independent"}}}};
  ch.spec = std::move(spec);
  return ch;
}

Result<Chart> table4_chart(const ReportData& data) {
  Chart ch;
  ch.id = "table4";
  ch.title = "Table 4: workload energy, binned estimate against the FLOPs-ideal baseline";
  auto rows = estimate_rows(data);
  if (!rows) return rows.error();
  auto table = estimates_table(data);
  if (!table) return table.error();
  Provenance prov;
  json values = json::array();
  for (const auto& r : *rows) {
    prov.add(r.estimated, r.simulated, r.energy_source, "", r.config);
    auto add = [&](const char* what, const std::optional<double>& e) {
      if (e && *e > 0.0)
        values.push_back({{"workload", r.workload}, {"config", r.config}, {"what", what}, {"energy_j", *e}});
    };
    add("binned estimate", r.energy_j);
    add("real lengths in bins", r.corrected_j);
    add("FLOPs ideal", r.ideal_j);
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " The FLOPs ideal is TDP / peak FLOP/s times the workload's FLOPs: a bound computed from the "
                  "datasheet, not a measurement.";
  if (!table->rows.empty()) {
    // The paper's Table 4 columns, in its order.
    Table t4;
    t4.name = "table4";
    t4.title = table->title;
    const char* keep[] = {"workload",
                          "config",
                          "requests",
                          "energy_j",
                          "energy_lo_j",
                          "energy_hi_j",
                          "corrected_energy_j",
                          "ideal_energy_j",
                          "above_ideal_pct",
                          "per_request_j",
                          "per_output_token_mj",
                          "gco2e",
                          "energy_source",
                          "estimated"};
    std::vector<int> idx;
    for (const char* k : keep) {
      idx.push_back(table->column(k));
      t4.columns.push_back(table->columns[static_cast<std::size_t>(table->column(k))]);
    }
    for (const auto& row : table->rows) {
      std::vector<Value> r;
      for (int i : idx) r.push_back(row[static_cast<std::size_t>(i)]);
      t4.rows.push_back(std::move(r));
    }
    ch.table_html = to_html(t4);
  }
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no workload estimates (estimate artifacts).";
    return ch;
  }
  json spec = vega_lite(
      "Workload energy (J, log axis) per configuration: the paper's binned estimate, the estimate "
      "with real lengths inside each bin, and the FLOPs-ideal baseline.");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"column", nominal("workload", "workload")}};
  // Side by side, not stacked: a log axis cannot stack, and the three are alternatives.
  json energy_axis = quant("energy_j", "energy (J)", true);
  energy_axis["stack"] = nullptr;
  spec["spec"] = {{"width", {{"step", 22}}},
                  {"height", 260},
                  {"mark", "bar"},
                  {"encoding",
                   {{"x", nominal("config", "configuration")},
                    {"xOffset", {{"field", "what"}, {"type", "nominal"}}},
                    {"y", energy_axis},
                    {"color", nominal("what", "figure")},
                    {"tooltip", json::array({nominal("workload", "workload"), nominal("config", "config"),
                                             nominal("what", "figure"), quant("energy_j", "J")})}}}};
  ch.spec = std::move(spec);
  return ch;
}

Result<Chart> savings_chart(const ReportData& data) {
  Chart ch;
  ch.id = "savings";
  ch.title = "Savings against the baseline configuration";
  auto rows = estimate_rows(data);
  if (!rows) return rows.error();
  Provenance prov;
  json values = json::array();
  for (const auto& r : *rows) {
    if (!r.saving_pct) continue;
    prov.add(r.estimated, r.simulated, r.energy_source, "", r.config);
    values.push_back({{"workload", r.workload}, {"config", r.config}, {"saving_pct", *r.saving_pct}});
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " Saving = 100 * (1 - E / E_baseline) on each workload's binned estimate; negative is a cost.";
  if (values.empty()) {
    ch.not_run = "Not run: no workload estimate carries savings against a baseline.";
    return ch;
  }
  json spec = vega_lite("Energy saved (%) by each configuration against the baseline, per workload.");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"column", nominal("workload", "workload")}};
  spec["spec"] = {
      {"width", {{"step", 28}}},
      {"height", 220},
      {"mark", "bar"},
      {"encoding",
       {{"x", nominal("config", "configuration")},
        {"y", quant("saving_pct", "saving (%)")},
        {"color", {{"condition", {{"test", "datum.saving_pct < 0"}, {"value", "#c0392b"}}}, {"value", "#27ae60"}}},
        {"tooltip",
         json::array({nominal("workload", "workload"), nominal("config", "config"), quant("saving_pct", "%")})}}}};
  ch.spec = std::move(spec);
  return ch;
}

}  // namespace jouleperf::report::detail
