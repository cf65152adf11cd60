// Validation, which the paper did not do: run a subset of a workload's actual requests
// (their real lengths, batched offline by bin at the estimate's batch size), measure it,
// and compare with the paper's binned estimate and the corrected estimate for exactly
// those requests. The "validation" document of a study.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/estimate/batch_composition.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/record/cell.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf::study {

struct ValidationOptions {
  std::string config;                 // the configuration whose cells estimate the subset
  std::vector<std::string> siblings;  // configurations with the same engine, model and
                                      // threads at other batch sizes: price partial batches
  std::uint64_t batch = 1;            // B: the estimate's batch size, and the run's
  std::size_t requests = 32;          // how many of the workload's binned requests to draw (before
                                      // rounding each bin up to whole batches, below)
  std::uint64_t seed = 1;             // which ones (a seeded, stratified choice) and their prompts
  // Each bin's draw is rounded up to whole batches of `batch` (more requests of the same
  // bin), so every batch runs full, as nearly all of a workload's batches do; false keeps
  // the draw as it is (its last batch per bin then runs partial).
  bool whole_batches = true;
  // Unmeasured batches per bin before the measured passes (as a cell's --warmup): the
  // first batch at a new length pays llama.cpp's buffer growth and cold caches.
  std::uint32_t warmup_batches = 1;
  // Measured passes over the subset, round-robin (pass r runs every bin once): the
  // measured energy is their mean, with a 95 % interval from their spread.
  std::uint32_t repetitions = 3;
  // In every pass, after each bin, a reference batch: B requests at the bin's edges, the
  // very work of the stored cell. Their energy now against the cells' is the machine's
  // drift since the sweep ("reference_drift_pct"), the floor under any validation error
  // on a machine whose speed wanders (docs/fidelity.md); it also serves as the warm-up.
  bool reference = true;
  std::optional<IdleBaseline> idle;
  // How the engine's static batches treat prompts, for the estimate corrected for batch
  // composition (composed_estimate_j): Engine::serve's static batching (engine/serve.hpp)
  // does not pad prompts, each member prefilling its own.
  estimate::BatchComposition composition = estimate::BatchComposition::kRaggedPrompts;
};

// Picks `count` binned requests of `bins` / `lengths` (deterministic for `seed`): the
// requests sorted by bin, then every k-th from a seeded offset, so each bin is
// represented in proportion to N. With whole_batch > 1, each bin's pick is then rounded
// up to a multiple of whole_batch with more requests of that bin (fewer only when the
// bin has fewer requests). Returns their indices into `lengths`, grouped by bin.
std::vector<std::size_t> pick_validation_requests(const estimate::WorkloadBins& bins,
                                                  const estimate::RequestLengths& lengths, std::size_t count,
                                                  std::uint64_t seed, std::uint64_t whole_batch = 1);

// Runs the chosen requests on `engine` bin by bin (all at t = 0, static batches of
// options.batch, Engine::serve): options.warmup_batches unmeasured batches per bin, then
// options.repetitions measured passes, each bin of each pass measured on `sampler`, and
// compares the mean total with the estimates over the same requests. Fails as
// Engine::serve or the Meter fail; kInvalidArgument for batch 0, 0 repetitions or a
// workload without a binned request; kNotFound when the configuration has no usable cell
// for a bin of the subset; kInternal when the measured energy is not positive (no error
// can be stated against it).
Result<nlohmann::json> validate_estimate(Engine& engine, Sampler& sampler, const Clock& clock,
                                         const estimate::WorkloadBins& bins, const estimate::RequestLengths& lengths,
                                         std::span<const CellResult> cells, const ValidationOptions& options);

}  // namespace jouleperf::study
