// The estimate validated against a full run of the same workload: every binned request
// run at its real lengths in offline static batches of the estimate's B per bin (the last
// batch of a bin partial), compared with the paper's estimate, the per-request corrected
// estimate and the estimate corrected for batch composition, with the difference split
// into its causes (docs/estimate.md 4b, docs/fidelity.md "Estimate validated on the
// simulator"). Engine-agnostic: the run goes through a StaticBatchRunner; the simulator
// provides one (and the cells) with no measurement noise.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/estimate/workload_estimate.hpp"
#include "jouleperf/record/cell.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sim/config.hpp"

namespace jouleperf::study {

// Runs one static batch: every request present at once, lengths in tokens (parallel
// arrays, same size >= 1), the batch lasting until its longest member ends.
class StaticBatchRunner {
 public:
  virtual ~StaticBatchRunner() = default;
  // The batch's energy, J. Fails with the engine's error (kUnsupported: does not fit).
  virtual Result<double> run(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs) = 0;
  // "simulated", or the meter's energy source.
  virtual std::string energy_source() const = 0;
};

// The simulator as a runner: sim::simulate of the batch (static batching, one replica,
// max_batch = the batch's size, all arrivals at 0); the energy is SimResult::energy_j.
// run() fails with kUnsupported when the batch does not run as one batch (a request
// rejected, or the KV cache split it).
std::unique_ptr<StaticBatchRunner> make_sim_batch_runner(const sim::SimConfig& config);

// A measured engine as a runner: Engine::serve with static batching at the batch's size,
// measured by a Meter on `sampler` (idle baseline subtracted when given). Keep the
// references alive while the runner is used.
std::unique_ptr<StaticBatchRunner> make_engine_batch_runner(Engine& engine, Sampler& sampler, const Clock& clock,
                                                            std::optional<IdleBaseline> idle);

// Cells of config `config` at every (I, O, B) of the lists, one repetition each, run on a
// simulating engine (the sim engine) as the sweep runs them (static batching, greedy):
// kDone with the simulated energy, or kSkipped with the engine's reason when it cannot run
// (does not fit, context too long). Fails with kInvalidArgument when the engine returns
// no simulated energy (a measuring engine: use the sweep), or with the engine's other errors.
Result<std::vector<CellResult>> simulate_cells(Engine& engine, const std::string& config,
                                               std::span<const std::uint64_t> inputs,
                                               std::span<const std::uint64_t> outputs,
                                               std::span<const std::uint64_t> batches);

enum class BatchOrder {
  kAsGiven,   // a bin's requests batched in the order of the lengths (a trace's arrival order)
  kShuffled,  // in a seeded random order (the embedded workloads' generated lengths are sorted)
};
// "trace" / "shuffle"; kInvalidArgument otherwise.
Result<BatchOrder> parse_batch_order(std::string_view s);

struct FullValidationOptions {
  std::string config;                  // the configuration whose cells estimate the workload
  estimate::EstimateOptions estimate;  // max_batch, caps; composition (kNone: padded is used)
  BatchOrder order = BatchOrder::kShuffled;
  std::uint64_t seed = 1;
};

struct FullValidation {
  std::string config, workload, energy_source;
  estimate::BatchComposition composition = estimate::BatchComposition::kPaddedPrompts;
  std::uint64_t requests = 0, batches = 0, partial_batches = 0;
  std::uint64_t real_input_tokens = 0, real_output_tokens = 0, binned_input_tokens = 0, binned_output_tokens = 0;
  double run_j = 0.0;          // the full run
  double paper_j = 0.0;        // the paper's estimate
  double per_request_j = 0.0;  // corrected on real lengths, each request priced alone
  double fractional_j = 0.0;   // corrected for batch composition at fractional N/B batches
  double corrected_j = 0.0;    // corrected for batch composition, partial batches included
  estimate::ConfigEstimate estimate;

  // 100 * (x / run - 1).
  double error_pct(double estimate_j) const;
  // The paper's error, split (signed, percent of the run; they sum to its error_pct):
  double ceilings_pct() const;     // (paper - per_request) / run: tokens never processed
  double composition_pct() const;  // (fractional - per_request) / run, negated: batches run to their longest
  double partial_pct() const;      // (corrected - fractional) / run, negated: last batches below B
  double rest_pct() const;         // (corrected - run) / run: what the corrected estimate still misses
};

// Estimates `bins` / `lengths` from `cells` (options.config) and runs every binned request
// on `runner`: per bin (estimate order), its requests in options.order, in batches of the
// bin's B, the last one partial. Fails as estimate_config fails, with kInvalidArgument
// for arrays of different sizes or no binned request, with the runner's error (naming
// the bin), or with kInternal when the run's energy is not positive (no error can be
// stated against it).
Result<FullValidation> validate_full_run(StaticBatchRunner& runner, const estimate::WorkloadBins& bins,
                                         const estimate::RequestLengths& lengths, std::span<const CellResult> cells,
                                         const FullValidationOptions& options);

// The whole check on the simulator, where measurement noise is zero: cells at every
// (I, O) of the bins' edges and every batch size of `batches` simulated by the sim engine
// on `config` (simulate_cells), then validate_full_run on make_sim_batch_runner(config).
// The config's own batching is replaced by static batching. Fails as those fail, or with
// kInvalidArgument for an empty `batches`.
Result<FullValidation> validate_on_simulator(const sim::SimConfig& config, const estimate::WorkloadBins& bins,
                                             const estimate::RequestLengths& lengths,
                                             std::span<const std::uint64_t> batches,
                                             const FullValidationOptions& options);

// The "full_validation" artifact.
nlohmann::json to_json(const FullValidation& v);

}  // namespace jouleperf::study
