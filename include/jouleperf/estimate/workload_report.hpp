// Every configuration of a study on one workload: the paper's estimate and the corrected
// one, the FLOPs-ideal baseline and how far above it each lies (the paper's Table 4),
// savings against the baseline configuration, per-request and per-token figures, carbon;
// and the "estimate" artifact's JSON (docs/estimate.md, artifact schema).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/carbon.hpp"
#include "jouleperf/estimate/ideal.hpp"
#include "jouleperf/estimate/workload_estimate.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::estimate {

// What one configuration's ideal baseline needs, resolved by the caller.
struct ConfigInputs {
  study::Config config;
  std::optional<ModelInfo> model;      // the architecture whose FLOPs count
  std::optional<DeviceRating> device;  // TDP and peak
  std::string ideal_note;              // why there is no ideal baseline, when model or device is absent
};

struct ConfigReport {
  ConfigEstimate estimate;
  std::optional<IdealEstimate> ideal;
  std::string ideal_note;                           // why ideal is absent
  std::optional<double> above_ideal_pct;            // 100 * (E / E_ideal - 1), on the bins
  std::optional<double> corrected_above_ideal_pct;  // corrected against E_ideal on real lengths
  std::optional<double> saving_pct;                 // 100 * (1 - E / E_baseline); 0 for the baseline
  // 95 % interval of the saving from paired repetitions (estimate/paired_savings.hpp), %;
  // absent when the cells were not measured rep-major (saving_interval_note says why).
  std::optional<double> saving_lo_pct, saving_hi_pct;
  std::uint32_t saving_pairs = 0;  // rounds behind the interval
  std::string saving_interval_note;
  double energy_wh = 0.0;
  double per_request_j = 0.0;  // E / requests
  double per_1000_requests_wh = 0.0;
  double per_output_token_j = 0.0;  // E / real output tokens (binned O* without lengths)
  double gco2e = 0.0;
  double gco2e_lo = 0.0;
  double gco2e_hi = 0.0;
};

struct Refusal {
  std::string config;
  std::string message;
};

struct WorkloadEstimate {
  WorkloadBins workload;
  LengthScale scale;
  std::string lengths_source;  // where the per-request lengths come from ("" = none)
  std::optional<std::string> baseline;
  CarbonOptions carbon;
  MissingBins missing = MissingBins::kInterpolate;
  double sigmas = 2.0;                // EstimateOptions::sigmas
  std::vector<ConfigReport> configs;  // in the order given; refused ones left out
  std::vector<Refusal> refused;
};

// Percentage saving of `energy` against `baseline`: 100 * (1 - energy / baseline).
// nullopt when baseline is not > 0.
std::optional<double> saving_pct(double energy_j, double baseline_j);

// Estimates every configuration. The baseline is the configuration marked baseline
// (Config::baseline) unless `baseline_name` names another; none: no savings. A
// configuration that cannot be estimated (plan_bin refuses, no cells) goes to `refused`
// with the message. Fails with kInvalidArgument when several configurations are marked
// baseline and none is named, when baseline_name is not a configuration, or for bad carbon
// options. A refused baseline leaves every saving_pct empty (its refusal is listed).
Result<WorkloadEstimate> estimate_workload(const WorkloadBins& bins, const RequestLengths* lengths,
                                           std::span<const ConfigInputs> configs,
                                           std::span<const study::CellResult> cells, const EstimateOptions& options,
                                           const CarbonOptions& carbon, const std::string& baseline_name = "");

// The "estimate" artifact (field names as in the artifact schema; energies in J).
nlohmann::json to_json(const WorkloadEstimate& w);

}  // namespace jouleperf::estimate
