// `jouleperf sweep` from plain settings: a study file or one configuration described by
// its fields, the grid's axes, repetitions and order, one shard of it, and the idle
// baseline; run into a results store. The command's flags bind to SweepSpec's fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/documents.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/scheduler_shard.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/sweep.hpp"
#include "jouleperf/study/thermal.hpp"

namespace jouleperf::study {

struct SweepSpec {
  std::string study_file;  // a study file (YAML); "": one config from the fields below
  // One-config grid (refused with a study file):
  std::string config_name = "default";
  std::string engine;       // llamacpp (default) | sim | openai
  std::string model;        // GGUF path, architecture or served name
  std::string weight_type;  // checked against the model
  std::string strategy;     // greedy (default) | sample
  std::string batching;     // static (default)
  std::optional<int> threads;
  std::vector<std::string> settings;         // KEY=VALUE
  std::optional<double> request_deadline_s;  // openai: the setting request_deadline_s, s
  // Axes ("128,512" or "32..8192"; "" = the study's, or 128 / 32 / 1 for one config):
  std::string input, output, batch;
  std::optional<std::uint32_t> warmup, reps;
  std::optional<double> idle_gap_s;  // cool-down between cells, s
  std::optional<std::uint64_t> seed;
  std::string order;                   // rep-major | cell-major ("" = the study's)
  std::optional<double> until_ci_pct;  // more repetitions until the 95 % interval is this % of the mean
  std::optional<std::uint32_t> max_reps;
  std::uint64_t max_cells = default_max_cells();
  std::string shard = "0/1";                 // i/n, or "auto": from the scheduler's environment (scheduler_shard.hpp)
  std::optional<std::uint32_t> shard_count;  // --shard-count: the shards expected (checked against the environment)
  EnvLookup env;                             // where "auto" reads the environment (the CLI: getenv)
  // Machine settings (docs/controls.md): the journal and the sysfs roots they are applied through.
  std::string settings_journal;  // "" = SettingsJournal::default_path()
  std::string cpufreq_root = "/sys/devices/system/cpu";
  std::string powercap_root = "/sys/class/powercap";
  std::string nvml_library = "libnvidia-ml.so.1";  // GPU settings go to the GPUs the sampler's NVML sensors measure
  // The thermal protocol (study/thermal.hpp) and where CPU temperatures are read.
  ThermalOptions thermal;
  std::string thermal_root = "/sys/class/thermal";
  std::string hwmon_root = "/sys/class/hwmon";
  const std::atomic<bool>* stop = nullptr;  // SweepEnv::stop: SIGINT/SIGTERM (the CLI's handler)
  double idle_s = 0.0;                      // measure idle power this long first, s
  std::optional<double> idle_power_w;       // or subtract this idle power, W
};

// The study and the cells of its shard, checked (validate_study, prepare_study: engine
// settings, model paths made absolute) before any store is touched.
struct SweepPlan {
  Study study;
  std::vector<GridCell> cells;
  Shard shard;
  std::string shard_source;  // "--shard 0/1", or which scheduler variables gave it
  bool measured = false;     // some cell's config is not the sim engine: a sampler is needed
};

// kInvalidArgument (or kParse for a malformed study file) naming the flag or key, or as
// load_study_file fails.
Result<SweepPlan> plan_sweep(const SweepSpec& spec);

// Runs the plan into `store` (sampler started, required when plan.measured; it is
// stopped at the end) and reads back each failed cell's reason. Fails as the idle
// baseline ("idle baseline: ...") or run_sweep fails.
Result<SweepReport> run_sweep_plan(const SweepPlan& plan, const SweepSpec& spec, Store& store,
                                   const std::string& store_path, Sampler* sampler, const Clock& clock,
                                   SweepProgress* progress);

}  // namespace jouleperf::study
