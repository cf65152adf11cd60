// The sweep runner: runs the cells of a study's grid (or one shard of it) on their
// engines, warm-ups first, then measured repetitions, an idle gap between cells, and
// stores each cell durably before the next starts. A sweep started again on the same
// store resumes: cells already stored are not run again.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/thermal.hpp"

namespace jouleperf::study {

// Opens the engine of a configuration:
//   llamacpp: open_llamacpp_engine with model (GGUF path), threads and the settings
//             threads_batch, flash_attention (auto|on|off), kv_type, n_batch, n_ubatch,
//             gpu_layers, mmap (true|false); weight_type, when set, must match the file's.
//   sim:      open_sim_engine with settings hardware (default h100-sxm), stack (vllm),
//             precision (else weight_type, else bf16), tp (1); model = architecture name.
//   llamacpp and sim also take the decoding settings of study/decoding_settings.hpp:
//             draft_model (LlamaEngineConfig::draft_model_path / SimEngineConfig::draft),
//             draft_tokens, accept_rate, beam_width (into each BatchRequest).
//   openai:   OpenAiEngine with setting url (required), api, timeout_s, request_deadline_s
//             (default: default_request_deadline_s of each request's lengths); model = served name;
//             the API key from the environment variable in setting api_key_env
//             (default OPENAI_API_KEY).
// Fails with kInvalidArgument for an unknown engine or a bad setting (naming it), or as
// the engine's own open fails.
Result<std::unique_ptr<Engine>> open_engine(const Config& config);

using EngineFactory = std::function<Result<std::unique_ptr<Engine>>(const Config&)>;

// Where a sweep stands, for progress displays.
struct SweepState {
  std::size_t total = 0;        // cells of this shard
  std::size_t done = 0;         // stored: resumed + measured + skipped so far
  std::size_t resumed = 0;      // found in the store at the start
  std::size_t run = 0;          // run by this sweep (done or skipped)
  double elapsed_s = 0.0;       // since the sweep started, on its clock
  std::optional<double> eta_s;  // remaining, from the mean time of cells run so far
};

// Callbacks; the library never prints. Each has an empty default.
class SweepProgress {
 public:
  virtual ~SweepProgress() = default;
  virtual void on_start(const SweepState&) {}
  // A cell is about to run (warm-ups included).
  virtual void on_cell_start(const CellKey&, const SweepState&) {}
  // A cell was stored (kDone, kSkipped or kFailed).
  virtual void on_cell_stored(const CellResult&, const SweepState&) {}
};

struct SweepEnv {
  const Clock* clock = nullptr;      // required: timestamps, the idle gap; the sampler's clock
  Sampler* sampler = nullptr;        // started; required when a config other than sim runs
  std::optional<IdleBaseline> idle;  // idle baseline for energy above idle
  EngineFactory open_engine;         // empty: study::open_engine
  // Merged into every cell's conditions (host_conditions(), sensor conditions, ...).
  nlohmann::json conditions = nlohmann::json::object();
  // Engines kept open at once (rep-major order switches configurations every batch); the
  // least recently used closes first. 1 = one model in memory at a time.
  std::size_t max_open_engines = 4;
  // Applies a configuration's machine settings (study/machine_settings.hpp) when the sweep
  // switches to it, returning what is in force, read back; recorded in each of its cells'
  // conditions as "machine_settings". Empty: none. An error stops the sweep.
  std::function<Result<nlohmann::json>(const Config&)> apply_settings;
  // The thermal protocol (study/thermal.hpp): the devices watched (started; null: none) —
  // read around every measured repetition into Repetition::devices —, the cool-down gate
  // waited before a batch that follows another cell's (Repetition::cooldown) and the
  // warm-up to steady state before a configuration's first measured cell (each of its
  // cells' conditions, "thermal_warmup").
  DeviceWatch* devices = nullptr;
  ThermalOptions thermal;
  // Set (e.g. by a SIGINT handler) to stop the sweep after the batch in progress: run_sweep
  // then fails with kIo "interrupted", everything stored so far kept. Null: never.
  const std::atomic<bool>* stop = nullptr;
};

struct SweepSummary {
  std::size_t total = 0;        // cells of this shard
  std::size_t resumed = 0;      // already in the store (done or skipped)
  std::size_t retried = 0;      // stored as kFailed by an earlier sweep, run again
  std::size_t measured = 0;     // run and stored as kDone
  std::size_t skipped = 0;      // stored as kSkipped (cannot run here)
  std::vector<CellKey> failed;  // stored as kFailed (a request failed) by this sweep
  double elapsed_s = 0.0;
  // With Study::until_ci_pct: cells that reached max_reps with a wider interval.
  std::vector<CellKey> ci_not_met;
};

// Runs `cells` (from expand_grid / select_shard of `study`) into `store`. First records
// every config (put_config: a store made under another definition of a config is refused,
// kInvalidArgument). Each cell not already stored runs its warm-ups before its first
// repetition, then study.repetitions measured batches (a Meter on env.sampler; for the sim
// engine the simulated energy instead, marked simulated and estimated), in study.order:
// rep-major (default) runs round r = repetition r of every cell, cells of one I, O, B side
// by side and the direction reversed every round, so a drift of the machine spreads over
// all cells and compared configurations alternate; cell-major runs a cell's repetitions
// back to back. study.idle_gap_s is waited on the clock whenever the next batch belongs to
// another cell. Every repetition is stored as it ends (Store::put_progress) and the cell
// when complete (put_cell); a resumed sweep never repeats a stored repetition. With
// study.until_ci_pct, a cell gets more repetitions until the 95 % interval of its energy
// per batch is within that percentage of the mean, or max_reps (listed in ci_not_met).
// A cell that cannot run (the engine says kInvalidArgument — e.g. context too long —,
// kUnsupported — does not fit —, or out of memory) is stored as kSkipped with the
// engine's reason. A cell whose batch (warm-up or repetition) had a failed request
// (Engine::last_failures(): HTTP error, stall, cut stream, deadline) is stored as
// kFailed with every request's reason and no repetition, and the sweep goes on; when
// every request of that batch failed (the server looks down) the sweep stops after
// storing it, with kNetwork. A resumed sweep runs kFailed cells again. Any other failure
// (engine open, sensor, store) stops the sweep and is returned; cells and repetitions stored so
// far stay stored.
Result<SweepSummary> run_sweep(const Study& study, const std::vector<GridCell>& cells, Store& store, SweepEnv& env,
                               SweepProgress* progress = nullptr);

// kNetwork naming every cell of summary.failed (requests failed; stored as failed, a
// resumed sweep retries them), for commands that must not estimate from such a sweep; ok
// when none failed.
Status no_failed_cells(const SweepSummary& summary);

// Builds one repetition from a measured batch (phases "prefill" and "decode").
Repetition repetition_from(const BatchResult& result, const Measurement& measurement);
// Builds one repetition from a simulated batch (BatchResult::simulated set).
Repetition repetition_from_simulated(const BatchResult& result);

}  // namespace jouleperf::study
