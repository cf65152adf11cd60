// The "Energy per request" figure (docs/serving.md, "Energy per request"): the
// distribution of the energy a replay attributed to each request, and that energy
// against the request's input and output length, with the paper's binned estimate of the
// same requests (E_batch(I*, O*, B) / B from the store's cells) overlaid where the store
// has cells.
#include <fmt/format.h>

#include <algorithm>

#include "chart_builders.hpp"
#include "jouleperf/estimate/interpolate.hpp"
#include "jouleperf/estimate/request_estimate.hpp"
#include "json_fields.hpp"
#include "provenance.hpp"

namespace jouleperf::report::detail {

namespace {

using nlohmann::json;

std::string where(const study::Artifact& a) { return "artifact " + a.kind + "/" + a.name; }

struct RequestPoint {
  std::string replay;
  double input = 0, output = 0, energy_j = 0;
};

// The configuration and batch size whose cells price the binned estimate: the replays'
// own configuration where they name one that has cells, else the first configuration
// with cells (`matched` false: the provenance says so), at the largest measured batch <=
// the replay's max batch (the smallest measured one if none is).
struct Pricing {
  std::string config;
  std::uint64_t batch = 0;
  estimate::CellGrid grid;
  bool matched = false;
};

std::optional<Pricing> pricing(const ReportData& data, std::uint64_t max_batch, const std::string& replay_config) {
  std::optional<Pricing> out;
  for (const auto& c : data.configs) {
    auto grid = estimate::CellGrid::of_config(data.cells, c.name);
    if (grid.empty()) continue;
    const bool matched = !replay_config.empty() && c.name == replay_config;
    if (out && !matched) continue;
    const auto batches = grid.batches();
    std::uint64_t b = batches.front();
    for (auto x : batches)
      if (x <= max_batch) b = x;
    out = Pricing{c.name, b, std::move(grid), matched};
    if (matched) break;
  }
  return out;
}

}  // namespace

Result<Chart> request_energy_chart(const ReportData& data) {
  Chart ch;
  ch.id = "request-energy";
  ch.title = "Energy per request under online serving, with the binned estimate of the same requests";
  Provenance prov;
  std::vector<RequestPoint> points;
  std::uint64_t max_batch = 1;
  std::string replay_config;  // the configuration the replays name (the first that names one)
  for (const auto* a : data.of_kind("replay")) {
    Fields top(a->body, where(*a));
    const json* reqs = top.array("per_request");
    const bool estimated = top.boolean("estimated").value_or(false);
    const std::string source = top.text("energy_source").value_or("");
    // In-process engines batch up to max_batch; a server's client sends up to max_concurrency.
    const auto mb = top.number("max_batch");
    const auto mc = top.number("max_concurrency");
    const auto config = top.text("config");
    if (auto st = top.status(); !st) return st.error();
    std::size_t added = 0;
    for (std::size_t i = 0; reqs != nullptr && i < reqs->size(); ++i) {
      Fields f((*reqs)[i], where(*a) + ", per_request[" + std::to_string(i) + "]");
      const auto e = f.number("energy_j");
      const auto in = f.number("input_tokens_asked");
      const auto out = f.number("output_tokens");
      const bool ok = f.boolean("ok").value_or(false);
      if (auto st = f.status(); !st) return st.error();
      if (!e || !in || !out || !ok) continue;
      points.push_back({a->name, *in, *out, *e});
      ++added;
    }
    if (added == 0) continue;
    if (mb || mc) max_batch = std::max<std::uint64_t>(max_batch, static_cast<std::uint64_t>(mb ? *mb : *mc));
    if (config && replay_config.empty()) replay_config = *config;
    prov.add(estimated, false, source, "", a->name);
  }
  ch.provenance = prov.line(data.sensor_note());
  if (points.empty()) {
    ch.not_run =
        "Not run: no replay in the store has energy per request (jouleperf replay --store; docs/serving.md, "
        "\"Energy per request\").";
    return ch;
  }
  json values = json::array();
  for (const auto& p : points)
    values.push_back({{"replay", p.replay},
                      {"input_tokens", p.input},
                      {"output_tokens", p.output},
                      {"energy_j", p.energy_j},
                      {"series", "attributed (measured run)"}});
  std::string overlay_note = " No cells in the store: no binned estimate to overlay.";
  if (auto pr = pricing(data, max_batch, replay_config)) {
    std::size_t priced = 0, beyond = 0;
    const std::string series = fmt::format("binned estimate ({}, B={})", pr->config, pr->batch);
    for (const auto& p : points) {
      auto b = estimate::binned_request_energy(pr->grid, pr->batch, static_cast<std::uint64_t>(p.input),
                                               static_cast<std::uint64_t>(p.output));
      if (!b) {
        if (b.error().code != Errc::kNotFound) return b.error();
        ++beyond;
        continue;
      }
      values.push_back({{"replay", p.replay},
                        {"input_tokens", p.input},
                        {"output_tokens", p.output},
                        {"energy_j", b->energy_j},
                        {"series", series}});
      ++priced;
    }
    overlay_note = fmt::format(
        " Binned estimate: each request's lengths rounded up to the paper's edges, E_batch(I*, O*, B) / B from the "
        "cells of {} at B={} ({} of {} requests priced; {} beyond the cells or the paper's edges).{}",
        pr->config, pr->batch, priced, points.size(), beyond,
        pr->matched ? ""
                    : " The replays name no configuration with cells: the estimate is of another configuration than "
                      "the one served.");
    for (const auto& c : data.cells)
      if (c.key.config == pr->config) prov.add(c);
    ch.provenance = prov.line(data.sensor_note());
  }
  ch.provenance += overlay_note;
  const json color = {{"field", "series"}, {"type", "nominal"}, {"title", ""}};
  const json tooltip =
      json::array({nominal("replay", "replay"), quant("input_tokens", "input tokens"),
                   quant("output_tokens", "output tokens"), quant("energy_j", "energy (J)"), nominal("series", "")});
  // Energy per request against one length, both series (log-log).
  auto scatter = [&](const char* field, const char* title) {
    return json{{"mark", {{"type", "point"}, {"filled", true}, {"opacity", 0.6}}},
                {"width", 300},
                {"height", 220},
                {"encoding",
                 {{"x", quant(field, title, true)},
                  {"y", quant("energy_j", "energy per request (J)", true)},
                  {"color", color},
                  {"tooltip", tooltip}}}};
  };
  json spec = vega_lite("Energy per request: distribution, and against input and output length");
  spec["data"] = {{"values", values}};
  spec["hconcat"] =
      json::array({{{"transform", json::array({{{"filter", "datum.series == 'attributed (measured run)'"}}})},
                    {"mark", "bar"},
                    {"width", 300},
                    {"height", 220},
                    {"encoding",
                     {{"x",
                       {{"field", "energy_j"},
                        {"type", "quantitative"},
                        {"bin", {{"maxbins", 30}}},
                        {"title", "energy per request (J)"}}},
                      {"y", {{"aggregate", "count"}, {"type", "quantitative"}, {"title", "requests"}}}}}},
                   scatter("input_tokens", "input tokens"),
                   scatter("output_tokens", "output tokens")});
  ch.spec = std::move(spec);
  return ch;
}

}  // namespace jouleperf::report::detail
