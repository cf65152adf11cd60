// workload_estimate_document: the estimate as tables and lines (the CLI's console, md
// and csv) with the "estimate" artifact as its JSON.
#include <fmt/format.h>

#include "jouleperf/estimate/workload_run.hpp"

namespace jouleperf::estimate {
namespace {

using table::optional_value;
using table::Value;

table::Table estimates_table(const WorkloadEstimate& w) {
  table::Table t;
  t.name = "estimates";
  t.title = "Workload energy per configuration";
  t.columns = {{"config", "configuration"},
               {"energy_wh", "the paper's estimate sum N/B * E_batch, Wh"},
               {"energy_lo_wh", "interval low end, Wh"},
               {"energy_hi_wh", "interval high end, Wh"},
               {"ideal_wh", "FLOPs-ideal baseline (TDP / peak x FLOPs), Wh"},
               {"above_ideal_pct", "energy / ideal - 1, %"},
               {"saving_pct", "saving against the baseline configuration, %"},
               {"saving_lo_pct", "paired 95 % interval of the saving, low end, %"},
               {"saving_hi_pct", "paired 95 % interval of the saving, high end, %"},
               {"per_request_j", "energy per request, J"},
               {"per_output_token_mj", "energy per output token, mJ"},
               {"corrected_wh", "estimate on the real lengths, Wh"},
               {"gco2e", "carbon, gCO2e"}};
  for (const auto& r : w.configs) {
    const auto& e = r.estimate;
    t.rows.push_back({e.config, r.energy_wh, to_wh(e.paper.lo_j), to_wh(e.paper.hi_j),
                      r.ideal ? Value(to_wh(r.ideal->energy_j)) : Value(), optional_value(r.above_ideal_pct),
                      optional_value(r.saving_pct), optional_value(r.saving_lo_pct), optional_value(r.saving_hi_pct),
                      r.per_request_j, r.per_output_token_j * 1e3,
                      e.corrected ? Value(to_wh(e.corrected->value_j)) : Value(), r.gco2e});
  }
  return t;
}

std::string source_line(const ConfigReport& r) {
  const auto& e = r.estimate;
  std::size_t interpolated = 0;
  for (const auto& b : e.bins) interpolated += b.interpolated ? 1 : 0;
  std::string line = fmt::format(
      "{}: energy source {}{}{}; {:.4g} gCO2e [{:.4g}, {:.4g}]; {} of {} bins interpolated", e.config, e.energy_source,
      e.estimated ? (e.simulated ? ", SIMULATED" : ", ESTIMATED from CPU time (a model)") : "",
      e.estimated ? "" : ", measured", r.gco2e, r.gco2e_lo, r.gco2e_hi, interpolated, e.bins.size());
  if (e.corrected_clamped > 0)
    line += fmt::format("; {} requests below the smallest measured length", e.corrected_clamped);
  if (e.corrected_uncorrected > 0)
    line += fmt::format("; {} requests not interpolable (ceiling kept)", e.corrected_uncorrected);
  return line;
}

std::vector<std::string> footer(const WorkloadEstimate& w) {
  std::vector<std::string> out;
  for (const auto& r : w.configs) {
    const auto& e = r.estimate;
    out.push_back(source_line(r));
    out.push_back("  ideal: " + (r.ideal ? r.ideal->source : r.ideal_note));
    if (e.composed)
      out.push_back(fmt::format(
          "  corrected for static batch composition: {:.4g} Wh [{:.4g}, {:.4g}] ({} partial batches)",
          to_wh(e.composed->value_j), to_wh(e.composed->lo_j), to_wh(e.composed->hi_j), e.composed_partial_batches));
  }
  out.push_back(
      fmt::format("carbon: {:g} g/kWh, PUE {:g} ({})", w.carbon.intensity_g_per_kwh, w.carbon.pue, w.carbon.source));
  if (!w.lengths_source.empty()) out.push_back("corrected estimate: real lengths from " + w.lengths_source);
  return out;
}

}  // namespace

table::Document workload_estimate_document(const WorkloadEstimate& w) {
  table::Document doc;
  doc.header.push_back(fmt::format("workload: {} ({}), {} requests in {} bins ({} excluded past the last edges)",
                                   w.workload.name, w.workload.trace, w.workload.requests, w.workload.bins.size(),
                                   w.workload.excluded));
  if (w.scale.input != 1.0 || w.scale.output != 1.0)
    doc.header.push_back(
        fmt::format("lengths scaled before binning: input x{:g}, output x{:g}", w.scale.input, w.scale.output));
  doc.header.push_back(fmt::format("missing bins: {}; baseline: {}; interval: +-{:g} standard errors + sensor bound",
                                   missing_bins_name(w.missing), w.baseline ? *w.baseline : "none", w.sigmas));
  doc.tables.push_back(estimates_table(w));
  doc.footer = footer(w);
  doc.json = to_json(w);
  return doc;
}

}  // namespace jouleperf::estimate
