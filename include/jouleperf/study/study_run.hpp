// The study pipelines end to end (`jouleperf study`): the main job (no study file: a
// synthetic model in an unoptimized baseline and optimized configurations, swept over the
// bins the embedded Azure workloads occupy, scaled down; the workload estimates against
// the FLOPs ideal, the savings, an online replay against offline batching, the validation
// of the estimate, a simulated-GPU section) and a study file (its sweep and the estimates
// on the embedded workloads). Each stores its documents in the results store, for the
// report (report/html.hpp), and returns what the command renders (study/documents.hpp).
// Progress goes through StudyProgress; nothing here prints.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/ideal_device.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/progress.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/sweep.hpp"

namespace jouleperf::study {

struct MainJobOptions {
  std::string out = "out/study";         // output directory: results.db, models/
  double idle_s = 2.0;                   // idle power measured this long first, s (0: none)
  std::uint32_t max_batch = 8;           // batch size of the batched configurations
  std::uint32_t reps = 3;                // measured batches per cell and passes per validation
  std::uint32_t warmup = 1;              // warm-up batches per cell and per validation bin
  std::size_t replay_requests = 32;      // requests in the online replay
  double replay_rate = 8.0;              // Poisson arrival rate of the replay, req/s
  std::size_t validation_requests = 24;  // real-length requests run per validation
  bool no_simulated = false;             // skip the simulated-GPU section
  std::uint64_t seed = 1;                // request choices, arrivals and prompts
  double until_ci_pct = 5.0;             // add repetitions until the 95 % interval is this % (0: off)
  std::uint32_t max_reps = 20;           // the cap with until_ci_pct
  std::optional<double> cpu_idle_w;      // the CPU-time model's power (FLOPs ideal's host rating), W
  std::optional<double> cpu_max_w;
  nlohmann::json fidelity;  // the "fidelity" artifact to store (null: none, and an earlier run's is removed)
};

struct FileStudyOptions {
  std::string out = "out/study";     // output directory: results.db
  double idle_s = 2.0;               // idle power measured this long first, s (0: none)
  std::optional<double> cpu_idle_w;  // as MainJobOptions
  std::optional<double> cpu_max_w;
  nlohmann::json fidelity;  // the "fidelity" artifact to store (null: none, and an earlier run's is removed)
};

// A workload estimate with the line that names it ("azure-conv-2023 (scaled)").
struct TitledEstimate {
  std::string title;
  estimate::WorkloadEstimate estimate;
};

struct StudyRunResult {
  std::string name;                         // "the main job" or the study file's name
  std::string store_path;                   // OUT/results.db
  std::string sensor_note;                  // how energies were obtained (MEASURED / ESTIMATED / SIMULATED)
  std::string scale_note;                   // how the workloads were scaled
  std::vector<TitledEstimate> estimates;    // measured configs (main job: scaled workloads)
  std::vector<TitledEstimate> simulated;    // the simulated-GPU section (main job only)
  std::vector<nlohmann::json> validations;  // main job: kind "validation" documents
  SweepSummary sweep;
  double started_unix_s = 0.0;
  double finished_unix_s = 0.0;
};

// Creates OUT (and OUT/models with `models`) and opens OUT/results.db. kIo naming the
// directory, or as Store::open fails.
Result<Store> open_output_store(const std::string& out, bool models);

// The main job's nine steps into `store` (opened by open_output_store) on a started
// `sampler` over `clock`. Resumes: stored cells, probes and models are reused. Fails
// with the failing step named in the message (kParse for a malformed stored thread
// probe, as the sweep, the engines, the sensors or the store fail).
Result<StudyRunResult> run_main_job(const MainJobOptions& options, Store& store, Sampler& sampler, const Clock& clock,
                                    StudyProgress& progress);

// A study file loaded, checked (engine settings, at most `max_cells` cells) and its model
// paths made absolute. Fails as load_study_file / prepare_study fail.
Result<Study> load_file_study(const std::string& path, std::uint64_t max_cells);
// True when a config of `plan` is measured (not the sim engine): a sampler is needed.
bool needs_sampler(const Study& plan);

// A study file's sweep into `store`, the estimates of both embedded workloads binned on the
// study's own lengths (unscaled), and the summary. `sampler` (started) is required when
// needs_sampler(plan). Fails as the sweep (or a failed cell: kNetwork), the estimate or the
// store fails.
Result<StudyRunResult> run_file_study(const Study& plan, const FileStudyOptions& options, Store& store,
                                      Sampler* sampler, const Clock& clock, StudyProgress& progress);

// The FLOPs-ideal device options of a study: the host CPU's power as the CPU-time model
// resolves it (explicit W, else its table) for configurations that name no hardware;
// when it cannot be resolved, host_max_w stays 0 and host_power_error says why.
estimate::IdealDeviceOptions ideal_device_options(std::optional<double> idle_w, std::optional<double> max_w);

}  // namespace jouleperf::study
