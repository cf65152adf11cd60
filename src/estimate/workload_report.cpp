#include "jouleperf/estimate/workload_report.hpp"

#include <string>
#include <utility>

#include "jouleperf/estimate/paired_savings.hpp"

namespace jouleperf::estimate {

std::optional<double> saving_pct(double energy_j, double baseline_j) {
  if (!(baseline_j > 0.0)) return std::nullopt;
  return 100.0 * (1.0 - energy_j / baseline_j);
}

Result<WorkloadEstimate> estimate_workload(const WorkloadBins& bins, const RequestLengths* lengths,
                                           std::span<const ConfigInputs> configs,
                                           std::span<const study::CellResult> cells, const EstimateOptions& options,
                                           const CarbonOptions& carbon, const std::string& baseline_name) {
  if (auto st = validate(carbon); !st.ok()) return st.error();
  WorkloadEstimate w;
  w.workload = bins;
  w.carbon = carbon;
  w.missing = options.missing;
  w.sigmas = options.sigmas;
  if (!baseline_name.empty()) {
    bool found = false;
    for (const auto& c : configs) found = found || c.config.name == baseline_name;
    if (!found) return make_error(Errc::kInvalidArgument, "baseline '" + baseline_name + "' is not a configuration");
    w.baseline = baseline_name;
  } else {
    for (const auto& c : configs) {
      if (!c.config.baseline) continue;
      if (w.baseline)
        return make_error(Errc::kInvalidArgument, "configurations '" + *w.baseline + "' and '" + c.config.name +
                                                      "' are both marked baseline; name one with --baseline");
      w.baseline = c.config.name;
    }
  }

  for (const auto& in : configs) {
    const CellGrid grid = CellGrid::of_config(cells, in.config.name);
    auto est = estimate_config(grid, in.config.name, bins, lengths, options);
    if (!est.ok()) {
      w.refused.push_back(Refusal{in.config.name, est.error().message});
      continue;
    }
    ConfigReport r;
    r.estimate = std::move(*est);
    const double e = r.estimate.paper.value_j;
    if (in.model && in.device) {
      auto ideal = ideal_energy(*in.model, *in.device, bins, lengths);
      if (ideal.ok()) {
        r.ideal = *ideal;
        if (ideal->energy_j > 0.0) r.above_ideal_pct = 100.0 * (e / ideal->energy_j - 1.0);
        if (r.estimate.corrected && ideal->real_energy_j && *ideal->real_energy_j > 0.0)
          r.corrected_above_ideal_pct = 100.0 * (r.estimate.corrected->value_j / *ideal->real_energy_j - 1.0);
      } else {
        r.ideal_note = ideal.error().message;
      }
    } else {
      r.ideal_note = in.ideal_note.empty() ? "no architecture or device rating" : in.ideal_note;
    }
    r.energy_wh = to_wh(e);
    const double n = static_cast<double>(r.estimate.requests);
    r.per_request_j = n > 0 ? e / n : 0.0;
    r.per_1000_requests_wh = to_wh(r.per_request_j * 1000.0);
    const double out_tokens = static_cast<double>(r.estimate.real_output_tokens ? *r.estimate.real_output_tokens
                                                                                : r.estimate.binned_output_tokens);
    r.per_output_token_j = out_tokens > 0 ? e / out_tokens : 0.0;
    r.gco2e = gco2e(e, carbon);
    r.gco2e_lo = gco2e(r.estimate.paper.lo_j, carbon);
    r.gco2e_hi = gco2e(r.estimate.paper.hi_j, carbon);
    w.configs.push_back(std::move(r));
  }

  if (w.baseline) {
    const ConfigReport* base = nullptr;
    for (const auto& r : w.configs)
      if (r.estimate.config == *w.baseline) base = &r;
    if (base != nullptr) {
      const double eb = base->estimate.paper.value_j;
      for (auto& r : w.configs) {
        r.saving_pct = saving_pct(r.estimate.paper.value_j, eb);
        if (r.estimate.config == *w.baseline) continue;
        auto p = paired_saving(cells, r.estimate.config, *w.baseline, bins, lengths, options, &r.saving_interval_note);
        if (!p) continue;
        r.saving_lo_pct = p->lo_pct;
        r.saving_hi_pct = p->hi_pct;
        r.saving_pairs = p->pairs;
      }
    }
  }
  return w;
}

namespace {

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json to_json(const WorkloadEstimate& w) {
  nlohmann::json bins = nlohmann::json::array();
  for (const auto& b : w.workload.bins)
    bins.push_back({{"input_tokens", b.input_tokens},
                    {"output_tokens", b.output_tokens},
                    {"requests", b.requests},
                    {"input_lo", b.input_lo},
                    {"output_lo", b.output_lo}});
  nlohmann::json configs = nlohmann::json::array();
  bool any_estimated = false, any_simulated = false;
  std::string sources;
  for (const auto& r : w.configs) {
    const ConfigEstimate& e = r.estimate;
    any_estimated = any_estimated || e.estimated;
    any_simulated = any_simulated || e.simulated;
    if (sources.find(e.energy_source) == std::string::npos) sources += (sources.empty() ? "" : "; ") + e.energy_source;
    nlohmann::json cb = nlohmann::json::array();
    for (const auto& b : e.bins) {
      nlohmann::json from = nlohmann::json::array();
      for (const auto& k : b.from) from.push_back(study::to_string(k));
      cb.push_back({{"input_tokens", b.bin.input_tokens},
                    {"output_tokens", b.bin.output_tokens},
                    {"requests", b.bin.requests},
                    {"batch", b.batch},
                    {"energy_batch_j", b.energy_batch_j},
                    {"energy_j", b.energy_j},
                    {"interpolated", b.interpolated},
                    {"from_cells", from}});
    }
    nlohmann::json c = {
        {"config", e.config},
        {"energy_source", e.energy_source},
        {"estimated", e.estimated},
        {"simulated", e.simulated},
        {"energy_j", e.paper.value_j},
        {"energy_lo_j", e.paper.lo_j},
        {"energy_hi_j", e.paper.hi_j},
        {"energy_random_sigma_j", e.paper.random_sigma_j},
        {"energy_systematic_j", e.paper.systematic_j},
        {"corrected_energy_j", e.corrected ? nlohmann::json(e.corrected->value_j) : nlohmann::json(nullptr)},
        {"corrected_lo_j", e.corrected ? nlohmann::json(e.corrected->lo_j) : nlohmann::json(nullptr)},
        {"corrected_hi_j", e.corrected ? nlohmann::json(e.corrected->hi_j) : nlohmann::json(nullptr)},
        {"corrected_clamped_requests", e.corrected_clamped},
        {"corrected_uncorrected_requests", e.corrected_uncorrected},
        {"composed_energy_j", e.composed ? nlohmann::json(e.composed->value_j) : nlohmann::json(nullptr)},
        {"composed_lo_j", e.composed ? nlohmann::json(e.composed->lo_j) : nlohmann::json(nullptr)},
        {"composed_hi_j", e.composed ? nlohmann::json(e.composed->hi_j) : nlohmann::json(nullptr)},
        {"composed_partial_batches", e.composed_partial_batches},
        {"composed_partial_scaled", e.composed_partial_scaled},
        {"composed_fallback_bins", e.composed_fallback_bins},
        {"energy_wh", r.energy_wh},
        {"per_request_j", r.per_request_j},
        {"per_1000_requests_wh", r.per_1000_requests_wh},
        {"per_output_token_j", r.per_output_token_j},
        {"gco2e", r.gco2e},
        {"gco2e_lo", r.gco2e_lo},
        {"gco2e_hi", r.gco2e_hi},
        {"ideal_energy_j", r.ideal ? nlohmann::json(r.ideal->energy_j) : nlohmann::json(nullptr)},
        {"ideal_real_lengths_j", r.ideal ? opt(r.ideal->real_energy_j) : nlohmann::json(nullptr)},
        {"ideal_source", r.ideal ? r.ideal->source : r.ideal_note},
        {"above_ideal_pct", opt(r.above_ideal_pct)},
        {"corrected_above_ideal_pct", opt(r.corrected_above_ideal_pct)},
        {"saving_pct", opt(r.saving_pct)},
        {"saving_lo_pct", opt(r.saving_lo_pct)},
        {"saving_hi_pct", opt(r.saving_hi_pct)},
        {"saving_pairs", r.saving_pairs},
        {"saving_interval_note", r.saving_interval_note},
        {"requests", e.requests},
        {"binned_output_tokens", e.binned_output_tokens},
        {"real_output_tokens", e.real_output_tokens ? nlohmann::json(*e.real_output_tokens) : nlohmann::json(nullptr)},
        {"bins", cb}};
    configs.push_back(std::move(c));
  }
  nlohmann::json refused = nlohmann::json::array();
  for (const auto& r : w.refused) refused.push_back({{"config", r.config}, {"message", r.message}});
  std::string note = "lengths multiplied before binning (1.0 = none)";
  if (w.scale.input != 1.0 || w.scale.output != 1.0)
    note = "every request's input length x" + std::to_string(w.scale.input) + ", output length x" +
           std::to_string(w.scale.output) + " (rounded, at least 1) before binning";
  return {{"workload", w.workload.name},
          {"trace", w.workload.trace},
          {"requests", w.workload.requests},
          {"offered_requests", w.workload.offered},
          {"excluded_requests", w.workload.excluded},
          {"scale", {{"input", w.scale.input}, {"output", w.scale.output}, {"note", note}}},
          {"lengths_source", w.lengths_source},
          {"bins", bins},
          {"baseline", w.baseline ? nlohmann::json(*w.baseline) : nlohmann::json(nullptr)},
          {"carbon",
           {{"intensity_g_per_kwh", w.carbon.intensity_g_per_kwh}, {"pue", w.carbon.pue}, {"source", w.carbon.source}}},
          {"missing_bins", missing_bins_name(w.missing)},
          {"interval", "energy +- (" + std::to_string(w.sigmas) +
                           " standard errors of the cells' means, in quadrature) + (the sensor bound, linear)"},
          {"energy_source", sources},
          {"estimated", any_estimated},
          {"simulated", any_simulated},
          {"configs", configs},
          {"refused", refused}};
}

}  // namespace jouleperf::estimate
