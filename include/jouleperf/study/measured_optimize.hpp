// `jouleperf optimize` on a real engine: plan with the simulator, then measure the most
// promising candidates. Every combination of model file, thread count, maximum batch and
// batching mode is a candidate llamacpp configuration; the simulator predicts each one's
// energy on the workload's bins the way the measured estimate adds it up
// (sum over bins of N / B * E_batch(I*, O*, B)); the K candidates predicted cheapest, plus
// the baseline, are swept on the engine (study::run_sweep, resumable) and estimated from
// the measured cells (estimate::estimate_workload); the comparison says how the prediction
// ranked them against the measurement. Pure functions: the command (src/cli/cmd_optimize.cpp)
// reads the host, opens the store and the sensors, and prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/hardware/profile.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/record/cell.hpp"
#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/stack.hpp"
#include "jouleperf/study/grid.hpp"

namespace jouleperf::study {

// The axes of the candidate grid (every combination is a candidate).
struct CandidateSpace {
  std::vector<std::string> models;                 // GGUF paths; the first is the default baseline's
  std::vector<int> threads = {1};                  // CPU threads (>= 1)
  std::vector<std::uint32_t> max_batch = {1};      // batch sizes B (>= 1): each config runs at its own B
  std::vector<std::string> batching = {"static"};  // static | continuous
  std::string strategy = "greedy";
};

// What the simulator prices a candidate on: the host CPU's profile rebuilt at each
// candidate's thread count, or one fixed profile (a calibrated one, used at every thread
// count); a software stack and optionally a fitted power model.
struct PlanDevice {
  std::optional<hardware::CpuInfo> cpu;            // the host CPU (/proc/cpuinfo)
  hardware::HostProfileOptions host;               // idle / full-load W, bandwidth guess; threads set per candidate
  std::optional<hardware::HardwareProfile> fixed;  // instead of cpu: this profile for every candidate
  sim::SoftwareStack stack;                        // llamacpp-cpu, or a calibrated stack
  std::optional<sim::PowerModel> power;            // replaces the device kind's default power model
  std::string description;                         // one line for the report
};

struct PlanOptions {
  std::size_t top_k = 3;            // candidates to measure besides the baseline (>= 1)
  std::optional<double> slo_e2e_s;  // predicted p99 end-to-end latency limit, s
  std::string baseline;             // a candidate name; "" = first model, 1 thread, B = 1, static
};

// One bin as the simulator prices it for a candidate.
struct PlannedBin {
  std::uint64_t input_tokens = 0;   // I*, tokens
  std::uint64_t output_tokens = 0;  // O*, tokens
  std::uint64_t requests = 0;       // N
  std::uint64_t batch = 0;          // B
  double energy_batch_j = 0.0;      // simulated E_batch(I*, O*, B), J
  double duration_s = 0.0;          // simulated batch duration (a request's end-to-end latency), s
  double energy_j = 0.0;            // N / B * E_batch, J
};

struct Candidate {
  Config config;                      // engine llamacpp, settings "batches" = its B
  ModelInfo model;                    // read from the GGUF (no weights read)
  std::string weight_type;            // from the GGUF ("f32", "q8_0")
  double predicted_energy_j = 0.0;    // SIMULATED, whole workload, J
  double predicted_e2e_p99_s = 0.0;   // SIMULATED p99 over requests of their bin's batch duration, s
  double predicted_e2e_mean_s = 0.0;  // SIMULATED request-weighted mean, s
  std::vector<PlannedBin> bins;
  bool feasible = false;  // every bin fits the context length and the KV cache, and the SLO (if any) holds
  std::string why;        // when not feasible: the bin that does not fit, or the SLO missed
  std::optional<std::size_t> predicted_rank;  // 1-based among feasible candidates by predicted energy
  bool selected = false;                      // measured (top K or the baseline)
};

struct Plan {
  std::vector<Candidate> candidates;  // grid order: model, threads, max batch, batching
  std::vector<std::size_t> selected;  // indices into candidates: the top K by predicted energy, then the baseline
  std::size_t baseline = 0;           // index of the baseline (always selected)
  std::string device;                 // PlanDevice::description
  std::uint64_t requests = 0;         // requests in the workload's bins
};

// Candidate name: "<model file stem>-t<threads>-b<B>-<batching>", e.g. "tiny-q8_0-t2-b8-continuous".
std::string candidate_name(const std::string& model_stem, int threads, std::uint32_t batch,
                           const std::string& batching);

// Builds every candidate, prices it with sim::simulate_batch at each bin's (I*, O*) and its
// B, ranks the feasible ones by predicted energy and selects the top K other than the
// baseline, plus the baseline (added as an extra candidate when the grid lacks it). Fails
// with kInvalidArgument for no models, an empty axis, a thread count or batch of 0, an
// unknown batching mode, top_k of 0, workload bins with no requests, or a baseline name
// that is no candidate; kNotFound / kParse naming the model file that cannot be read; kUnsupported
// naming the file whose weight type the simulator cannot price; or as the simulator
// refuses the configuration (a bin whose batch does not fit makes the candidate infeasible,
// not an error).
Result<Plan> plan_candidates(const CandidateSpace& space, const estimate::WorkloadBins& bins, const PlanDevice& device,
                             const PlanOptions& options);

// The sweep that measures the plan's selected configs: each at its own B, over exactly the
// workload's occupied bins (cells of expand_grid restricted to (I*, O*) pairs with N > 0),
// `warmup` fixed warm-up batches and `repetitions` measured ones per cell.
struct MeasurementPlan {
  Study study;
  std::vector<GridCell> cells;
};
MeasurementPlan measurement_plan(const Plan& plan, const estimate::WorkloadBins& bins, std::uint32_t warmup,
                                 std::uint32_t repetitions, std::uint64_t seed = 1);

// What the estimate needs for each selected config: the config and its model (for the
// FLOPs-ideal baseline); the device rating is left to the caller.
std::vector<estimate::ConfigInputs> estimate_inputs(const Plan& plan);

// One measured config: the prediction beside the measurement.
struct ComparedConfig {
  std::string name;
  bool baseline = false;
  double predicted_energy_j = 0.0;                     // SIMULATED, J
  std::size_t predicted_rank = 0;                      // 1-based among the measured configs, by prediction
  std::optional<double> measured_energy_j;             // the estimate from measured cells, J (paper's formula)
  std::optional<double> measured_lo_j, measured_hi_j;  // its interval, J
  std::string energy_source;                           // the cells' sensor source ("cpu-time-model", "counter", ...)
  bool estimated = false;                              // the cells came from a model (CPU-time model)
  std::optional<std::size_t> measured_rank;            // 1-based among configs with a measured energy
  std::optional<double> saving_pct;                    // measured, against the baseline
  std::optional<double> prediction_error_pct;          // 100 * (predicted / measured - 1)
  std::string refused;                                 // why the estimate refused it
};

struct Comparison {
  std::vector<ComparedConfig> configs;           // in the plan's selected order
  std::optional<std::string> predicted_best;     // least predicted energy among the measured configs
  std::optional<std::string> measured_best;      // least measured energy
  bool predicted_best_is_measured_best = false;  // the measured best has the least predicted energy (ties count)
  std::optional<double> spearman;                // rank correlation of predicted and measured energy (n >= 2)
  std::optional<double> best_saving_pct;         // measured best against the baseline, %
  std::string baseline;
};

// Sets predicted and measured ranks, the rank agreement and the savings. Fails with
// kInvalidArgument when the estimate holds a config the plan did not select.
Result<Comparison> compare_with_measurement(const Plan& plan, const estimate::WorkloadEstimate& measured);

// Spearman's rank correlation of two samples (average ranks for ties); nullopt for fewer
// than 2 values, different sizes, or a sample with no spread.
std::optional<double> spearman_rho(const std::vector<double>& a, const std::vector<double>& b);

// JSON forms (energies in J, labelled: "predicted" is SIMULATED).
nlohmann::json to_json(const Candidate& c);
nlohmann::json to_json(const Comparison& c);

}  // namespace jouleperf::study
