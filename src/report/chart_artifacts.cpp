// Figures drawn from the documents stored beside the cells: power over time with phase
// marks (power-trace), binned vs real length CDFs (lengths), the Table-4 comparison and
// savings (estimate).
#include <fmt/format.h>

#include <functional>
#include <set>

#include "chart_builders.hpp"
#include "jouleperf/report/escape.hpp"
#include "jouleperf/report/tables.hpp"
#include "json_fields.hpp"
#include "people_table.hpp"
#include "provenance.hpp"

namespace jouleperf::report::detail {

namespace {

using nlohmann::json;

std::string where(const study::Artifact& a) { return "artifact " + a.kind + "/" + a.name; }

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
  std::optional<double> energy_j, energy_lo_j, energy_hi_j, corrected_j, ideal_j, saving_pct, saving_lo_pct,
      saving_hi_pct;
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
      r.energy_lo_j = f.number("energy_lo_j");
      r.energy_hi_j = f.number("energy_hi_j");
      r.saving_lo_pct = f.number("saving_lo_pct");
      r.saving_hi_pct = f.number("saving_hi_pct");
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

// Appends a power trace's device temperatures ("temperatures": [{t_s, device, temp_c}],
// written by a sweep with watched devices) to `out`, tagged with the trace's name.
Status read_temperatures(const study::Artifact& a, json& out) {
  Fields f(a.body, where(a));
  const json* temps = f.array("temperatures");
  if (auto st = f.status(); !st) return st;
  for (std::size_t i = 0; temps != nullptr && i < temps->size(); ++i) {
    Fields t((*temps)[i], where(a) + ", temperatures[" + std::to_string(i) + "]");
    const auto ts = t.number("t_s");
    const auto c = t.number("temp_c");
    const auto device = t.text("device");
    if (auto st = t.status(); !st) return st;
    if (ts && c) out.push_back({{"trace", a.name}, {"t_s", *ts}, {"temp_c", *c}, {"device", device.value_or("")}});
  }
  return {};
}

}  // namespace

Result<Chart> power_chart(const ReportData& data) {
  Chart ch;
  ch.id = "power";
  ch.title = "Power over time, with phase marks";
  Provenance prov;
  json points = json::array();
  json phase_marks = json::array();
  json temperatures = json::array();
  json traces = json::array();
  for (const auto* a : data.of_kind("power-trace")) {
    Fields f(a->body, where(*a));
    const json* samples = f.array("samples");
    const json* marks = f.array("marks");
    const bool estimated = f.boolean("estimated").value_or(false);
    const bool simulated = f.boolean("simulated").value_or(false);
    const std::string source = f.text("energy_source").value_or("");
    const std::string sensor = f.text("sensor").value_or("");
    if (auto st = f.status(); !st) return st.error();
    const std::string kind = std::string(provenance_kind(estimated, simulated)) + ", " + source;
    std::size_t added = 0;
    for (std::size_t i = 0; samples != nullptr && i < samples->size(); ++i) {
      Fields s((*samples)[i], where(*a) + ", samples[" + std::to_string(i) + "]");
      const auto t = s.number("t_s");
      const auto p = s.number("power_w");
      if (auto st = s.status(); !st) return st.error();
      if (!t || !p) continue;
      points.push_back({{"trace", a->name}, {"t_s", *t}, {"power_w", *p}, {"source", kind}});
      ++added;
    }
    if (added == 0) continue;
    if (auto st = read_temperatures(*a, temperatures); !st) return st.error();
    for (std::size_t i = 0; marks != nullptr && i < marks->size(); ++i) {
      Fields m((*marks)[i], where(*a) + ", marks[" + std::to_string(i) + "]");
      const auto t = m.number("t_s");
      const auto name = m.text("name");
      if (auto st = m.status(); !st) return st.error();
      if (t) phase_marks.push_back({{"trace", a->name}, {"t_s", *t}, {"phase", name.value_or("")}});
    }
    traces.push_back(a->name);
    prov.add(estimated, simulated, source, sensor, a->name);
  }
  ch.provenance = prov.line(data.sensor_note());
  if (traces.empty()) {
    ch.not_run = "Not run: the store holds no power traces (power-trace artifacts).";
    return ch;
  }
  // One trace at a time (the selector), so the figure stays one screen however many there are.
  const json only = json::array({{{"filter", "datum.trace == power_trace"}}});
  json layers = json::array();
  layers.push_back(
      {{"data", {{"values", points}}},
       {"transform", only},
       {"mark", {{"type", "line"}, {"interpolate", "step-after"}}},
       {"encoding",
        {{"x", quant("t_s", "time (s)")},
         {"y", quant("power_w", "power (W)")},
         {"tooltip",
          json::array({{{"field", "t_s"}, {"type", "quantitative"}, {"title", "t (s)"}, {"format", ",.3~r"}},
                       {{"field", "power_w"}, {"type", "quantitative"}, {"title", "power (W)"}, {"format", ",.3~r"}},
                       nominal("source", "source")})}}}});
  if (!phase_marks.empty()) {
    layers.push_back({{"data", {{"values", phase_marks}}},
                      {"transform", only},
                      {"mark", {{"type", "rule"}, {"strokeDash", {4, 3}}}},
                      {"encoding", {{"x", quant("t_s", "time (s)")}, {"color", nominal("phase", "phase mark")}}}});
    layers.push_back(
        {{"data", {{"values", phase_marks}}},
         {"transform", only},
         {"mark", {{"type", "text"}, {"align", "left"}, {"baseline", "top"}, {"dx", 3}, {"dy", 2}}},
         {"encoding", {{"x", quant("t_s", "time (s)")}, {"y", {{"value", 0}}}, {"text", {{"field", "phase"}}}}}});
  }
  if (!temperatures.empty())  // the devices' temperatures, on their own axis at the right
    layers.push_back(
        {{"data", {{"values", temperatures}}},
         {"transform", only},
         {"mark", {{"type", "line"}, {"strokeDash", {2, 2}}, {"color", "#d62728"}}},
         {"encoding",
          {{"x", quant("t_s", "time (s)")},
           {"y",
            {{"field", "temp_c"},
             {"type", "quantitative"},
             {"title", "temperature (C)"},
             {"axis", {{"orient", "right"}}}}},
           {"detail", nominal("device", "device")},
           {"tooltip",
            json::array({nominal("device", "device"),
                         {{"field", "temp_c"}, {"type", "quantitative"}, {"title", "temperature (C)"}}})}}}});
  json spec = vega_lite(
      "Sampled power (W) over time (s) for the power trace chosen in the selector; dashed rules mark phases; a dotted "
      "red line, on the right axis, the watched devices' temperature (C) where the trace has it.");
  if (!temperatures.empty()) spec["resolve"] = {{"scale", {{"y", "independent"}}}};
  spec["params"] = json::array({select_param("power_trace", traces, "power trace ")});
  spec["width"] = 900;
  spec["height"] = 260;
  spec["layer"] = layers;
  ch.spec = std::move(spec);
  return ch;
}

Result<Chart> lengths_chart(const ReportData& data) {
  Chart ch;
  ch.id = "lengths";
  ch.title = "Request lengths: real vs binned (CDF)";
  json values = json::array();
  std::size_t panels = 0;
  for (const auto* a : data.of_kind("lengths")) {
    Fields f(a->body, where(*a));
    const std::string workload = f.text("workload").value_or(a->name);
    const json* parts[2][2] = {{f.array("real/input"), f.array("real/output")},
                               {f.array("binned/input"), f.array("binned/output")}};
    if (auto st = f.status(); !st) return st.error();
    const char* source_name[2] = {"real", "binned"};
    const char* length_name[2] = {"input", "output"};
    for (int l = 0; l < 2; ++l) {
      bool any = false;
      for (int s = 0; s < 2; ++s) {
        if (parts[s][l] == nullptr) continue;
        const std::string at = fmt::format("{}: {}/{}", where(*a), source_name[s], length_name[l]);
        auto st = read_pairs(*parts[s][l], at, [&](double tokens, double cdf) {
          if (!(tokens > 0.0)) return;  // log axis
          values.push_back({{"panel", workload + ": " + length_name[l] + " tokens"},
                            {"source", source_name[s]},
                            {"tokens", tokens},
                            {"cdf", cdf}});
          any = true;
        });
        if (!st) return st.error();
      }
      panels += any ? 1 : 0;
    }
  }
  ch.provenance =
      "Not an energy figure: request lengths from each workload's trace (real) and the same requests "
      "after ceiling binning (binned: each length raised to its bin's upper edge).";
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no length distributions (lengths artifacts).";
    return ch;
  }
  const Grid g = layout(panels, 220, 150, 80);
  json spec = vega_lite(
      "Cumulative distribution of input and output lengths (tokens, log axis): the trace's real "
      "lengths against the binned lengths the estimate uses, one panel per workload and length.");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"field", "panel"}, {"type", "nominal"}, {"title", nullptr}, {"sort", nullptr}};
  spec["columns"] = g.columns;
  json y = quant("cdf", "share of requests at or below");
  y["scale"] = {{"domain", {0, 1}}};
  y["axis"] = {{"format", "%"}};
  spec["spec"] = {
      {"width", g.width},
      {"height", g.height},
      {"mark", {{"type", "line"}, {"interpolate", "step-after"}}},
      {"encoding",
       {{"x", quant("tokens", "tokens", true)},
        {"y", y},
        {"color", nominal("source", "lengths")},
        {"strokeDash", nominal("source", "lengths")},
        {"tooltip",
         json::array(
             {nominal("panel", "workload"),
              nominal("source", "lengths"),
              quant("tokens", "tokens"),
              {{"field", "cdf"}, {"type", "quantitative"}, {"title", "share at or below"}, {"format", ".1%"}}})}}}};
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
  std::set<std::string> workloads, configs;
  for (const auto& r : *rows) {
    prov.add(r.estimated, r.simulated, r.energy_source, "", r.config);
    const std::string source = std::string(provenance_kind(r.estimated, r.simulated)) + ", " + r.energy_source;
    auto add = [&](const char* what, const std::optional<double>& e, const std::optional<double>& lo,
                   const std::optional<double>& hi) {
      if (!e || !(*e > 0.0)) return;
      json v = {{"workload", r.workload},
                {"config", r.config},
                {"what", what},
                {"energy_wh", *e / 3600.0},
                {"source", source}};
      if (lo && hi) v["interval_wh"] = detail::sig3(*lo / 3600.0) + " to " + detail::sig3(*hi / 3600.0);
      values.push_back(std::move(v));
      workloads.insert(r.workload);
      configs.insert(r.config);
    };
    add("binned estimate", r.energy_j, r.energy_lo_j, r.energy_hi_j);
    add("real lengths in bins", r.corrected_j, std::nullopt, std::nullopt);
    add("FLOPs ideal", r.ideal_j, std::nullopt, std::nullopt);
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " The FLOPs ideal is TDP / peak FLOP/s times the workload's FLOPs: a bound computed from the "
                  "datasheet, not a measurement.";
  if (!table->rows.empty()) {
    // The paper's Table 4 columns, energies in Wh (one unit across the row), in its order.
    struct Col {
      const char* from;
      Column to;
      double scale;
    };
    const Col cols[] = {
        {"workload", {"workload", "workload"}, 1.0},
        {"config", {"config", "configuration"}, 1.0},
        {"requests", {"requests", "requests in the workload"}, 1.0},
        {"energy_j", {"energy_wh", "binned estimate, Wh"}, 1.0 / 3600.0},
        {"energy_lo_j", {"energy_lo_wh", "its interval, low end, Wh"}, 1.0 / 3600.0},
        {"energy_hi_j", {"energy_hi_wh", "its interval, high end, Wh"}, 1.0 / 3600.0},
        {"corrected_energy_j", {"real_lengths_wh", "with the real lengths in each bin, Wh"}, 1.0 / 3600.0},
        {"ideal_energy_j", {"flops_ideal_wh", "FLOPs-ideal baseline, Wh"}, 1.0 / 3600.0},
        {"above_ideal_pct", {"above_ideal_pct", "100 * (energy / ideal - 1)"}, 1.0},
        {"per_request_j", {"per_request_j", "energy per request, J"}, 1.0},
        {"per_output_token_mj", {"per_output_token_mj", "energy per output token, mJ"}, 1.0},
        {"gco2e", {"gco2e", "grams CO2e"}, 1.0},
    };
    Table t4;
    t4.name = "table4";
    t4.title = table->title;
    for (const auto& c : cols) t4.columns.push_back(c.to);
    for (const auto& row : table->rows) {
      std::vector<Value> r;
      for (const auto& c : cols) {
        Value v = row[static_cast<std::size_t>(table->column(c.from))];
        if (const double* x = std::get_if<double>(&v); x != nullptr && c.scale != 1.0) v = *x * c.scale;
        r.push_back(std::move(v));
      }
      t4.rows.push_back(std::move(r));
    }
    ch.table_html = detail::people_table_html(t4);
  }
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no workload estimates (estimate artifacts).";
    return ch;
  }
  // Panels wide enough for three bars per configuration, as many per row as fit.
  const int width = std::max(120, static_cast<int>(configs.size()) * 3 * 16);
  const Grid g = layout(workloads.size(), width, 240, 110);
  json spec = vega_lite(
      "Workload energy (Wh, log axis) per configuration: the paper's binned estimate, the estimate "
      "with real lengths inside each bin, and the FLOPs-ideal baseline; one panel per workload.");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"field", "workload"}, {"type", "nominal"}, {"title", "workload"}};
  spec["columns"] = g.columns;
  // Side by side, not stacked: a log axis cannot stack, and the three are alternatives.
  json energy_axis = quant("energy_wh", "energy (Wh)", true);
  energy_axis["stack"] = nullptr;
  spec["spec"] = {
      {"width", g.width},
      {"height", g.height},
      {"mark", "bar"},
      {"encoding",
       {{"x", nominal("config", "configuration")},
        {"xOffset", {{"field", "what"}, {"type", "nominal"}}},
        {"y", energy_axis},
        {"color", nominal("what", "figure")},
        {"tooltip",
         json::array({nominal("workload", "workload"),
                      nominal("config", "configuration"),
                      nominal("what", "figure"),
                      {{"field", "energy_wh"}, {"type", "quantitative"}, {"title", "energy (Wh)"}, {"format", ",.3~r"}},
                      nominal("interval_wh", "interval (Wh)"),
                      nominal("source", "source")})}}}};
  spec["resolve"] = {{"scale", {{"y", "independent"}}}};
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
  std::set<std::string> workloads, configs;
  for (const auto& r : *rows) {
    if (!r.saving_pct) continue;
    prov.add(r.estimated, r.simulated, r.energy_source, "", r.config);
    json v = {{"workload", r.workload},
              {"config", r.config},
              {"saving_pct", *r.saving_pct},
              {"source", std::string(provenance_kind(r.estimated, r.simulated)) + ", " + r.energy_source}};
    if (r.saving_lo_pct && r.saving_hi_pct) {
      v["saving_lo_pct"] = *r.saving_lo_pct;
      v["saving_hi_pct"] = *r.saving_hi_pct;
    }
    values.push_back(std::move(v));
    workloads.insert(r.workload);
    configs.insert(r.config);
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " Saving = 100 * (1 - E / E_baseline) on each workload's binned estimate; negative is a cost. "
                  "Whiskers: the paired 95 % interval where the sweep stored paired repetitions.";
  if (values.empty()) {
    ch.not_run = "Not run: no workload estimate carries savings against a baseline.";
    return ch;
  }
  const Grid g = layout(workloads.size(), std::max(120, static_cast<int>(configs.size()) * 34), 220, 90);
  json spec = vega_lite("Energy saved (%) by each configuration against the baseline, one panel per workload.");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"field", "workload"}, {"type", "nominal"}, {"title", "workload"}};
  spec["columns"] = g.columns;
  json tooltip = json::array(
      {nominal("workload", "workload"),
       nominal("config", "configuration"),
       {{"field", "saving_pct"}, {"type", "quantitative"}, {"title", "saving (%)"}, {"format", ",.3~r"}},
       {{"field", "saving_lo_pct"}, {"type", "quantitative"}, {"title", "95 % interval from (%)"}, {"format", ",.3~r"}},
       {{"field", "saving_hi_pct"}, {"type", "quantitative"}, {"title", "to (%)"}, {"format", ",.3~r"}},
       nominal("source", "source")});
  spec["spec"] = {{"width", g.width},
                  {"height", g.height},
                  {"layer", json::array({{{"mark", "bar"},
                                          {"encoding",
                                           {{"x", nominal("config", "configuration")},
                                            {"y", quant("saving_pct", "saving (%)")},
                                            {"color",
                                             {{"condition", {{"test", "datum.saving_pct < 0"}, {"value", "#c0392b"}}},
                                              {"value", "#27ae60"}}},
                                            {"tooltip", tooltip}}}},
                                         {{"transform", json::array({{{"filter", "isValid(datum.saving_lo_pct)"}}})},
                                          {"mark", {{"type", "rule"}, {"color", "#333"}}},
                                          {"encoding",
                                           {{"x", nominal("config", "configuration")},
                                            {"y", quant("saving_lo_pct", "saving (%)")},
                                            {"y2", {{"field", "saving_hi_pct"}}}}}}})}};
  ch.spec = std::move(spec);
  return ch;
}

}  // namespace jouleperf::report::detail
