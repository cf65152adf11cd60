// Figures drawn from the study's cells: energy per batch over I x O, energy per output
// token against batch size, prefill vs decode share, latency against energy.
#include <fmt/format.h>

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

json quant(const char* field, const char* title, bool log = false) {
  json e = {{"field", field}, {"type", "quantitative"}, {"title", title}};
  if (log) e["scale"] = {{"type", "log"}};
  return e;
}

json nominal(const char* field, const char* title) { return {{"field", field}, {"type", "nominal"}, {"title", title}}; }

}  // namespace

json vega_lite(const std::string& description) {
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"}, {"description", description}};
}

Chart energy_per_batch_chart(const ReportData& data) {
  Chart ch;
  ch.id = "energy-per-batch";
  ch.title = "Energy per batch over input and output length, per batch size";
  Provenance prov;
  json values = json::array();
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const double e = c.energy_per_batch_j().mean;
    if (!(e > 0.0)) continue;  // a log colour scale needs positive values
    values.push_back({{"config", c.key.config},
                      {"input_tokens", c.key.input_tokens},
                      {"output_tokens", c.key.output_tokens},
                      {"batch", c.key.batch},
                      {"energy_per_batch_j", e},
                      {"energy_per_batch_sd_j", c.energy_per_batch_j().stddev},
                      {"repetitions", c.reps.size()}});
    prov.add(c);
  }
  ch.provenance = prov.line(data.sensor_note());
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no measured cells.";
    return ch;
  }
  json spec = vega_lite(
      "Mean energy of one batch (J) for each input length I and output length O; one panel per "
      "configuration (rows) and batch size (columns).");
  spec["data"] = {{"values", values}};
  spec["facet"] = {{"row", nominal("config", "configuration")},
                   {"column", {{"field", "batch"}, {"type", "ordinal"}, {"title", "batch size B"}}}};
  spec["spec"] = {
      {"width", 150},
      {"height", 120},
      {"mark", "rect"},
      {"encoding",
       {{"x", {{"field", "input_tokens"}, {"type", "ordinal"}, {"title", "input tokens I"}}},
        {"y", {{"field", "output_tokens"}, {"type", "ordinal"}, {"title", "output tokens O"}, {"sort", "descending"}}},
        {"color",
         {{"field", "energy_per_batch_j"},
          {"type", "quantitative"},
          {"title", "J per batch"},
          {"scale", {{"type", "log"}, {"scheme", "viridis"}}}}},
        {"tooltip", json::array({nominal("config", "config"), quant("input_tokens", "I"), quant("output_tokens", "O"),
                                 quant("batch", "B"), quant("energy_per_batch_j", "energy per batch (J)"),
                                 quant("energy_per_batch_sd_j", "sd (J)"), quant("repetitions", "repetitions")})}}}};
  ch.spec = std::move(spec);
  return ch;
}

Chart energy_per_token_chart(const ReportData& data) {
  Chart ch;
  ch.id = "energy-per-token";
  ch.title = "Energy per output token against batch size, per configuration";
  Provenance prov;
  json values = json::array();
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const double mj = c.energy_per_output_token_j().mean * 1e3;
    if (!(mj > 0.0)) continue;
    values.push_back({{"config", c.key.config},
                      {"lengths", fmt::format("I={} O={}", c.key.input_tokens, c.key.output_tokens)},
                      {"batch", c.key.batch},
                      {"energy_per_output_token_mj", mj}});
    prov.add(c);
  }
  ch.provenance = prov.line(data.sensor_note());
  if (values.empty()) {
    ch.not_run = "Not run: the store holds no measured cells.";
    return ch;
  }
  json spec = vega_lite(
      "Mean energy per output token (mJ) against batch size, log-log; one line per "
      "configuration and (I, O) pair.");
  spec["data"] = {{"values", values}};
  spec["width"] = 520;
  spec["height"] = 320;
  spec["mark"] = {{"type", "line"}, {"point", true}};
  json x = quant("batch", "batch size B", true);
  x["scale"]["base"] = 2;
  spec["encoding"] = {{"x", x},
                      {"y", quant("energy_per_output_token_mj", "energy per output token (mJ)", true)},
                      {"color", nominal("config", "configuration")},
                      {"detail", {{"field", "lengths"}, {"type", "nominal"}}},
                      {"tooltip", json::array({nominal("config", "config"), nominal("lengths", "lengths"),
                                               quant("batch", "B"), quant("energy_per_output_token_mj", "mJ/token")})}};
  ch.spec = std::move(spec);
  return ch;
}

Chart phase_share_chart(const ReportData& data) {
  Chart ch;
  ch.id = "phase-share";
  ch.title = "Prefill vs decode share of batch energy";
  Provenance prov;
  json values = json::array();
  for (const auto& c : data.cells) {
    if (!done(c)) continue;
    const auto prefill = mean_phase(c, &study::Repetition::prefill_energy_j);
    const auto decode = mean_phase(c, &study::Repetition::decode_energy_j);
    if (!prefill && !decode) continue;
    const std::string label = cell_label(c);
    if (prefill) values.push_back({{"cell", label}, {"phase", "prefill"}, {"energy_j", *prefill}});
    if (decode) values.push_back({{"cell", label}, {"phase", "decode"}, {"energy_j", *decode}});
    prov.add(c);
  }
  ch.provenance = prov.line(data.sensor_note());
  if (values.empty()) {
    ch.not_run = "Not run: no cell has per-phase (prefill/decode) energies.";
    return ch;
  }
  json spec = vega_lite("Share of each batch's energy spent in prefill and in decode (phase marks on the meter).");
  spec["data"] = {{"values", values}};
  spec["width"] = 420;
  spec["height"] = {{"step", 14}};
  spec["mark"] = "bar";
  json x = quant("energy_j", "share of batch energy");
  x["stack"] = "normalize";
  x["axis"] = {{"format", "%"}};
  spec["encoding"] = {
      {"y", {{"field", "cell"}, {"type", "nominal"}, {"title", "cell"}, {"sort", nullptr}}},
      {"x", x},
      {"color", {{"field", "phase"}, {"type", "nominal"}, {"title", "phase"}, {"sort", {"prefill", "decode"}}}},
      {"order", {{"field", "phase"}, {"sort", "descending"}}},
      {"tooltip", json::array({nominal("cell", "cell"), nominal("phase", "phase"), quant("energy_j", "energy (J)")})}};
  ch.spec = std::move(spec);
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
                      {"energy_per_request_j", energy}});
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
                      {"energy_per_request_j", *energy}});
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
  spec["width"] = 520;
  spec["height"] = 320;
  spec["mark"] = {{"type", "point"}, {"filled", true}, {"size", 60}};
  spec["encoding"] = {{"x", quant("latency_s", "latency (s)", true)},
                      {"y", quant("energy_per_request_j", "energy per request (J)", true)},
                      {"color", nominal("config", "configuration")},
                      {"shape", nominal("what", "what")},
                      {"tooltip", json::array({nominal("label", "what"), quant("latency_s", "latency (s)"),
                                               quant("energy_per_request_j", "J/request")})}};
  ch.spec = std::move(spec);
  return ch;
}

}  // namespace jouleperf::report::detail
