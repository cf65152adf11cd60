// Figures drawn from the study's cells: energy per batch over I x O (one batch size at a
// time), prefill share over I x O (likewise), energy per output token against batch size
// (one small panel per configuration), latency against energy.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "chart_builders.hpp"
#include "json_fields.hpp"
#include "provenance.hpp"

namespace jouleperf::report::detail {

namespace {

using nlohmann::json;

bool done(const study::CellResult& c) { return c.status == study::CellStatus::kDone && !c.reps.empty(); }

std::string cell_label(const study::CellResult& c) {
  return fmt::format("{} I={} O={} B={}", c.key.config, c.key.input_tokens, c.key.output_tokens, c.key.batch);
}

std::optional<double> mean_phase(const study::CellResult& c, std::optional<double> study::Repetition::*field) {
  double sum = 0.0;
  std::size_t n = 0;
  for (const auto& r : c.reps) {
    if (r.*field) {
      sum += *(r.*field);
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

std::string source_of(const study::CellResult& c) {
  return std::string(provenance_kind(c.estimated, c.simulated)) + ", " +
         (c.energy_source.empty() ? std::string("source not recorded") : c.energy_source);
}

// The batch sizes present as a JSON array: first the one most configurations have (the
// largest among equals: the selector's initial choice), then the others ascending.
json batches_of(const json& values) {
  std::map<std::uint64_t, std::set<std::string>> configs;
  for (const auto& v : values) configs[v["batch"].get<std::uint64_t>()].insert(v["config"].get<std::string>());
  std::uint64_t first = 0;
  std::size_t most = 0;
  for (const auto& [b, c] : configs)
    if (c.size() >= most) {
      most = c.size();
      first = b;
    }
  json out = json::array({first});
  for (const auto& [b, c] : configs)
    if (b != first) out.push_back(b);
  return out;
}

// A heatmap over I x O per configuration, one batch size at a time (the selector):
// `field` coloured, `grid` panels.
json io_heatmap(const json& values, std::size_t configs, json color, json tooltip, bool independent_color,
                const std::string& description) {
  json spec = vega_lite(description);
  const Grid g = layout(configs, 200, 160, independent_color ? 150 : 80);
  spec["data"] = {{"values", values}};
  spec["params"] = json::array({select_param("batch_B", batches_of(values), "batch size B ")});
  spec["transform"] = json::array({{{"filter", "datum.batch == batch_B"}}});
  spec["facet"] = {{"field", "config"}, {"type", "nominal"}, {"title", "configuration"}};
  spec["columns"] = g.columns;
  spec["spec"] = {
      {"width", g.width},
      {"height", g.height},
      {"mark", "rect"},
      {"encoding",
       {{"x", {{"field", "input_tokens"}, {"type", "ordinal"}, {"title", "input tokens I"}}},
        {"y", {{"field", "output_tokens"}, {"type", "ordinal"}, {"title", "output tokens O"}, {"sort", "descending"}}},
        {"color", std::move(color)},
        {"tooltip", std::move(tooltip)}}}};
  if (independent_color) spec["resolve"] = {{"scale", {{"color", "independent"}}}};
  return spec;
}

}  // namespace

Chart energy_per_batch_chart(const ReportData& data) {
  Chart ch;
  ch.id = "energy-per-batch";
  ch.title = "Energy per batch over input and output length";
  Provenance prov;
  json values = json::array();
  std::set<std::string> configs;
  std::vector<std::pair<std::string, double>> magnitudes;
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const auto e = c.energy_per_batch_j();
    if (!(e.mean > 0.0)) continue;  // a log colour scale needs positive values
    values.push_back({{"config", c.key.config},
                      {"input_tokens", c.key.input_tokens},
                      {"output_tokens", c.key.output_tokens},
                      {"batch", c.key.batch},
                      {"energy_per_batch_j", e.mean},
                      {"energy_per_batch_sd_j", e.stddev},
                      {"repetitions", c.reps.size()},
                      {"source", source_of(c)}});
    configs.insert(c.key.config);
    magnitudes.emplace_back(c.key.config, e.mean);
    prov.add(c);
  }
  ch.provenance = prov.line(data.sensor_note());
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no measured cells.";
    return ch;
  }
  const bool independent = spans_orders(magnitudes);
  ch.spec = io_heatmap(values, configs.size(),
                       {{"field", "energy_per_batch_j"},
                        {"type", "quantitative"},
                        {"title", "J per batch"},
                        {"legend", {{"format", ",.3~r"}}},
                        {"scale", {{"type", "log"}, {"scheme", "viridis"}}}},
                       json::array({nominal("config", "configuration"),
                                    quant("input_tokens", "I (tokens)"),
                                    quant("output_tokens", "O (tokens)"),
                                    quant("batch", "B"),
                                    {{"field", "energy_per_batch_j"},
                                     {"type", "quantitative"},
                                     {"title", "energy per batch (J)"},
                                     {"format", ",.3~r"}},
                                    {{"field", "energy_per_batch_sd_j"},
                                     {"type", "quantitative"},
                                     {"title", "sd over repetitions (J)"},
                                     {"format", ",.2~r"}},
                                    quant("repetitions", "repetitions"),
                                    nominal("source", "source")}),
                       independent,
                       "Mean energy of one batch (J) for each input length I and output length O, one panel per "
                       "configuration, for the batch size chosen in the selector." +
                           std::string(independent ? " Each configuration has its own colour scale: their energies "
                                                     "differ by more than 10x."
                                                   : ""));
  return ch;
}

Chart energy_per_token_chart(const ReportData& data) {
  Chart ch;
  ch.id = "energy-per-token";
  ch.title = "Energy per output token against batch size";
  Provenance prov;
  // Per configuration and batch size: the geometric mean over its (I, O) cells, and their range.
  struct Acc {
    double log_sum = 0.0, lo = 0.0, hi = 0.0;
    std::size_t n = 0;
    std::string source;
  };
  std::map<std::pair<std::string, std::uint64_t>, Acc> acc;
  std::vector<std::pair<std::string, double>> magnitudes;
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const double mj = c.energy_per_output_token_j().mean * 1e3;
    if (!(mj > 0.0)) continue;
    auto& a = acc[{c.key.config, c.key.batch}];
    a.log_sum += std::log(mj);
    a.lo = a.n == 0 ? mj : std::min(a.lo, mj);
    a.hi = std::max(a.hi, mj);
    ++a.n;
    a.source = source_of(c);
    magnitudes.emplace_back(c.key.config, mj);
    prov.add(c);
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " Each point is the geometric mean over the configuration's (I, O) cells at that batch size; the "
                  "vertical rule spans their lowest and highest.";
  if (acc.empty()) {
    ch.not_run = "Not run: the store holds no measured cells.";
    return ch;
  }
  json values = json::array();
  std::set<std::string> configs;
  for (const auto& [key, a] : acc) {
    configs.insert(key.first);
    values.push_back({{"config", key.first},
                      {"batch", key.second},
                      {"energy_per_output_token_mj", std::exp(a.log_sum / static_cast<double>(a.n))},
                      {"lowest_mj", a.lo},
                      {"highest_mj", a.hi},
                      {"cells", a.n},
                      {"source", a.source}});
  }
  // One panel, a line per configuration (the geometric mean) with a rule over its cells'
  // range; a panel per configuration when their energies differ by orders of magnitude.
  const bool independent = spans_orders(magnitudes);
  std::set<std::uint64_t> batch_values;
  for (const auto& [key, a] : acc) batch_values.insert(key.second);
  json x = quant("batch", "batch size B", true);
  x["scale"]["base"] = 2;
  x["axis"] = {{"values", json(batch_values)}, {"format", "d"}};
  json y = quant("energy_per_output_token_mj", "mJ per output token", true);
  y["axis"] = {{"format", ",.3~r"}};
  json tooltip =
      json::array({nominal("config", "configuration"),
                   quant("batch", "B"),
                   {{"field", "energy_per_output_token_mj"},
                    {"type", "quantitative"},
                    {"title", "geometric mean (mJ/token)"},
                    {"format", ",.3~r"}},
                   {{"field", "lowest_mj"}, {"type", "quantitative"}, {"title", "lowest (mJ)"}, {"format", ",.3~r"}},
                   {{"field", "highest_mj"}, {"type", "quantitative"}, {"title", "highest (mJ)"}, {"format", ",.3~r"}},
                   quant("cells", "cells"),
                   nominal("source", "source")});
  json layers = json::array(
      {{{"mark", {{"type", "rule"}, {"opacity", 0.6}}},
        {"encoding",
         {{"x", x},
          {"y",
           {{"field", "lowest_mj"},
            {"type", "quantitative"},
            {"scale", {{"type", "log"}}},
            {"title", "mJ per output token"}}},
          {"y2", {{"field", "highest_mj"}}},
          {"color", nominal("config", "configuration")}}}},
       {{"mark", {{"type", "line"}, {"point", {{"size", 50}}}}},
        {"encoding", {{"x", x}, {"y", y}, {"color", nominal("config", "configuration")}, {"tooltip", tooltip}}}}});
  json spec = vega_lite(
      "Energy per output token (mJ, log) against batch size (log 2): per configuration the geometric mean over its "
      "(I, O) cells, and a rule over their range.");
  spec["data"] = {{"values", values}};
  if (independent) {
    const Grid g = layout(configs.size(), 260, 200, 90);
    spec["facet"] = {{"field", "config"}, {"type", "nominal"}, {"title", "configuration"}};
    spec["columns"] = g.columns;
    spec["spec"] = {{"width", g.width}, {"height", g.height}, {"layer", layers}};
    spec["resolve"] = {{"scale", {{"y", "independent"}}}};
  } else {
    spec["width"] = 640;
    spec["height"] = 340;
    spec["layer"] = layers;
  }
  ch.spec = std::move(spec);
  return ch;
}

Chart phase_share_chart(const ReportData& data) {
  Chart ch;
  ch.id = "phase-share";
  ch.title = "Prefill share of batch energy over input and output length";
  Provenance prov;
  json values = json::array();
  std::set<std::string> configs;
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const auto prefill = mean_phase(c, &study::Repetition::prefill_energy_j);
    const auto decode = mean_phase(c, &study::Repetition::decode_energy_j);
    if (!prefill || !decode || !(*prefill + *decode > 0.0)) continue;
    values.push_back({{"config", c.key.config},
                      {"input_tokens", c.key.input_tokens},
                      {"output_tokens", c.key.output_tokens},
                      {"batch", c.key.batch},
                      {"prefill_share_pct", 100.0 * *prefill / (*prefill + *decode)},
                      {"prefill_energy_j", *prefill},
                      {"decode_energy_j", *decode},
                      {"source", source_of(c)}});
    configs.insert(c.key.config);
    prov.add(c);
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " Share = prefill energy / (prefill + decode energy), from the phase marks on the meter.";
  if (values.empty()) {
    ch.not_run = "Not run: no cell has per-phase (prefill/decode) energies.";
    return ch;
  }
  ch.spec = io_heatmap(
      values, configs.size(),
      {{"field", "prefill_share_pct"},
       {"type", "quantitative"},
       {"title", "prefill share (%)"},
       {"legend", {{"format", ",.3~r"}}},
       {"scale", {{"domain", {0, 100}}, {"scheme", "blueorange"}}}},
      json::array(
          {nominal("config", "configuration"),
           quant("input_tokens", "I (tokens)"),
           quant("output_tokens", "O (tokens)"),
           quant("batch", "B"),
           {{"field", "prefill_share_pct"},
            {"type", "quantitative"},
            {"title", "prefill share (%)"},
            {"format", ".3~r"}},
           {{"field", "prefill_energy_j"}, {"type", "quantitative"}, {"title", "prefill (J)"}, {"format", ",.3~r"}},
           {{"field", "decode_energy_j"}, {"type", "quantitative"}, {"title", "decode (J)"}, {"format", ",.3~r"}},
           nominal("source", "source")}),
      false,
      "Share of each batch's energy spent in prefill (%) for each input length I and output length O, one panel per "
      "configuration, for the batch size chosen in the selector.");
  return ch;
}

Result<Chart> latency_energy_chart(const ReportData& data) {
  Chart ch;
  ch.id = "latency-energy";
  ch.title = "Latency against energy per request";
  Provenance prov;
  json values = json::array();
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const double latency = c.duration_s().mean;
    const double energy = c.energy_per_request_j().mean;
    if (!(latency > 0.0) || !(energy > 0.0)) continue;
    values.push_back({{"config", c.key.config},
                      {"what", "offline batch (cell)"},
                      {"label", cell_label(c)},
                      {"latency_s", latency},
                      {"energy_per_request_j", energy},
                      {"source", source_of(c)}});
    prov.add(c);
  }
  for (const auto* a : data.of_kind("replay")) {
    Fields f(a->body, "artifact replay/" + a->name);
    const auto latency = f.number("latency_s/e2e/mean");
    const auto p50 = f.number("latency_s/e2e/p50");
    const auto energy = f.number("per_request_j");
    const std::string config = f.text("config").value_or(a->name);
    const bool estimated = f.boolean("estimated").value_or(false);
    const bool simulated = f.boolean("simulated").value_or(false);
    const std::string source = f.text("energy_source").value_or("");
    if (auto st = f.status(); !st) return st.error();
    const auto lat = latency ? latency : p50;
    if (!lat || !energy || !(*lat > 0.0) || !(*energy > 0.0)) continue;
    values.push_back({{"config", config},
                      {"what", "online replay"},
                      {"label", a->name},
                      {"latency_s", *lat},
                      {"energy_per_request_j", *energy},
                      {"source", std::string(provenance_kind(estimated, simulated)) + ", " + source}});
    prov.add(estimated, simulated, source, "", "replay " + a->name);
  }
  ch.provenance = prov.line(data.sensor_note()) +
                  " Cells: latency is the batch's duration (every request of a static batch ends with it); "
                  "replays: mean end-to-end latency (median when the mean is absent).";
  if (values.empty()) {
    ch.not_run = "Not run: no measured cells or replays with latency and energy.";
    return ch;
  }
  json spec = vega_lite(
      "Energy per request (J) against latency (s), log-log: offline batches (cells) and "
      "online replays.");
  spec["data"] = {{"values", values}};
  spec["width"] = 640;
  spec["height"] = 340;
  spec["mark"] = {{"type", "point"}, {"filled", true}, {"size", 60}};
  spec["encoding"] = {
      {"x", quant("latency_s", "latency (s)", true)},
      {"y", quant("energy_per_request_j", "energy per request (J)", true)},
      {"color", nominal("config", "configuration")},
      {"shape", nominal("what", "what")},
      {"tooltip",
       json::array({nominal("label", "what"),
                    {{"field", "latency_s"}, {"type", "quantitative"}, {"title", "latency (s)"}, {"format", ",.3~r"}},
                    {{"field", "energy_per_request_j"},
                     {"type", "quantitative"},
                     {"title", "energy per request (J)"},
                     {"format", ",.3~r"}},
                    nominal("source", "source")})}};
  ch.spec = std::move(spec);
  return ch;
}

}  // namespace jouleperf::report::detail
