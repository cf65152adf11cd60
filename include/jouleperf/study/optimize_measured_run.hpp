// `jouleperf optimize --engine llamacpp` as library calls: the candidates (model files x
// threads x max batch x batching) planned on the simulator (plan_measured_optimize), the
// top K and the baseline swept on llama.cpp into a store and estimated from the measured
// cells, prediction against measurement (run_measured_optimize), and the outcome as a
// Document (measured_optimize_document). The caller owns the sampler and the progress.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/study/measured_optimize.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/sweep.hpp"

namespace jouleperf::study {

struct MeasuredOptimizeOptions {
  // The workload: an embedded workload (default azure-conv-2023) or a trace's lengths.
  std::string trace, workload;
  std::uint64_t seed = 1;
  std::uint32_t scale_input = 1, scale_output = 1;                // length divisors
  std::string input_edges = "32..8192", output_edges = "8..512";  // before scaling, tokens
  // The candidates.
  std::vector<std::string> models;  // GGUF files (the first is the baseline's)
  std::vector<int> cpu_threads{1};
  std::vector<std::uint32_t> max_batch;  // empty: 1,4,8
  std::vector<std::string> batching;     // empty: static,continuous
  std::string baseline;                  // a candidate's name; "" or "none": the default
  std::size_t top_k = 3;
  double slo_e2e_s = 0;  // 0 = none
  std::uint64_t max_cells = 0;
  // The device the plan prices: a profile (from `profiles`) or this host's CPU.
  std::string hardware;
  std::vector<std::string> profiles;
  std::string stack_file;  // replaces llamacpp-cpu
  std::optional<double> cpu_idle_w, cpu_max_w;
  // The measurement.
  std::string store;
  std::uint32_t reps = 3, warmup = 1;
};

struct MeasuredWorkload {
  estimate::WorkloadBins bins;
  estimate::RequestLengths lengths;  // scaled
  std::string lengths_source;
};

struct MeasuredOptimizePlan {
  MeasuredWorkload work;
  PlanDevice device;
  Plan plan;
  MeasurementPlan measurement;
};

// The workload's bins and the plan. kInvalidArgument for a bad grid (over max_cells),
// edges or scale, an unknown profile; loader and model errors as they come.
Result<MeasuredOptimizePlan> plan_measured_optimize(const MeasuredOptimizeOptions& o);

// "planned N candidates on the simulator (...); measuring the K predicted cheapest and the
// baseline 'X'".
std::string plan_summary(const MeasuredOptimizePlan& p);

struct MeasuredOptimizeOutcome {
  nlohmann::json document;  // stored as artifact optimize/measured-<workload>
  Comparison comparison;
  SweepSummary sweep;
  bool estimated = false;            // the sensor is a model (CPU-time)
  std::string sensor_note;           // where measured energies come from
  std::vector<std::string> summary;  // workload, plan, sweep and sensor lines
};

// Sweeps the plan's cells into `store` with `env` (its sampler started by the caller),
// estimates each measured candidate and compares with the prediction; stores the document.
// `sensors` names the energy source when `estimated` is false. Fails as run_sweep, a
// failed cell, estimate_workload and the store fail.
Result<MeasuredOptimizeOutcome> run_measured_optimize(const MeasuredOptimizeOptions& o, const MeasuredOptimizePlan& p,
                                                      Store& store, SweepEnv& env, SweepProgress* progress,
                                                      bool estimated, const std::string& sensors);

// Summary lines, the "comparison" table (predicted and measured energy, ranks, saving,
// prediction error, source) and the verdict lines; JSON: the document.
table::Document measured_optimize_document(const MeasuredOptimizeOutcome& outcome);

}  // namespace jouleperf::study
