// The paper's workload estimate for one configuration,
//   E_total = sum over bins N(I*, O*) / B(I*, O*) * E_batch(I*, O*, B(I*, O*)),
// a corrected estimate on the real lengths inside each bin, and the interval each
// carries from the repetitions' spread and the sensor's bound (docs/estimate.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/batch_composition.hpp"
#include "jouleperf/estimate/interpolate.hpp"
#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::estimate {

// Bins without a measured cell:
enum class MissingBins {
  kInterpolate,  // bilinear in (ln I, ln O) between measured cells; refused outside them
  kRefuse,       // the configuration is refused, naming the bin
};
// "interpolate" (or "interpolate-log"), "refuse"; kInvalidArgument otherwise.
Result<MissingBins> parse_missing_bins(std::string_view s);
// "interpolate-log", "refuse" (the artifact's names).
std::string_view missing_bins_name(MissingBins m);

struct EstimateOptions {
  MissingBins missing = MissingBins::kInterpolate;
  std::uint64_t max_batch = 0;  // B(I*, O*) is at most this; 0 = no cap
  // Per-bin caps on B, e.g. the memory-budget batch size: {(I*, O*) -> B}. Absent = no cap.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> bin_batch_caps;
  double sigmas = 2.0;  // width of the random part of the interval, standard errors
  // With lengths and not kNone: also the estimate corrected for static batch composition
  // (ConfigEstimate::composed; docs/estimate.md 4b).
  BatchComposition composition = BatchComposition::kNone;
};

// A total with its interval. value_j = sum_k c_k * mean_k over the cells k it uses
// (c_k = the total weight of cell k's mean energy per batch). random_sigma_j =
// sqrt(sum_k (c_k * stddev_k / sqrt(n_k))^2): cells are independent measurements, each
// counted once however many bins or requests use it. systematic_j = sum_k c_k * u_k with
// u_k the cell's mean sensor bound per batch, added linearly (a bound, not a random
// error). lo_j = max(0, value - sigmas * random - systematic), hi_j = value + sigmas *
// random + systematic.
struct Interval {
  double value_j = 0.0;
  double random_sigma_j = 0.0;
  double systematic_j = 0.0;
  double lo_j = 0.0;
  double hi_j = 0.0;
};

// Accumulates c_k per cell and turns them into an Interval.
class CellWeights {
 public:
  // Adds `scale` times an interpolation's corner weights.
  void add(const Interpolation& interp, double scale);
  Interval interval(double sigmas) const;
  // The cells used, for energy_source / estimated / simulated.
  std::vector<const study::CellResult*> cells() const;

 private:
  std::map<const study::CellResult*, double> weight_;
};

struct BinEstimate {
  EstimateBin bin;
  std::uint64_t batch = 0;           // B(I*, O*)
  double energy_batch_j = 0.0;       // E_batch(I*, O*, B), mean over repetitions (or interpolated), J
  double energy_j = 0.0;             // N / B * E_batch, J
  bool interpolated = false;         // no measured cell at (I*, O*): from the corners below
  std::vector<study::CellKey> from;  // the cells it comes from
};

struct ConfigEstimate {
  std::string config;
  std::string energy_source;          // the cells' source, "mixed: a+b" when they differ
  bool estimated = false;             // some cell came from a model (CPU-time model, simulator)
  bool simulated = false;             // some cell came from the simulator
  Interval paper;                     // the paper's estimate on the bins
  std::optional<Interval> corrected;  // on the real lengths (when lengths are given)
  std::vector<BinEstimate> bins;
  std::uint64_t requests = 0;                       // sum of N
  std::uint64_t binned_output_tokens = 0;           // sum N * O*
  std::optional<std::uint64_t> real_output_tokens;  // sum of o over binned requests (with lengths)
  std::uint64_t corrected_clamped = 0;              // requests below the smallest measured length (kept at it)
  std::uint64_t corrected_uncorrected = 0;  // requests that could not be interpolated (their bin's E_batch used)

  // Corrected for static batch composition (options.composition, with lengths): each bin's
  // requests as floor(N/B) batches of B and one of N mod B, each priced at its expected
  // longest output and its expected longest (padded) or mean (ragged) prompt, the partial
  // batch at its own size (price_batch).
  std::optional<Interval> composed;
  // The same lengths at the paper's fractional N/B batches of B (no partial batch): the
  // composed estimate less its partial-batch correction, for splitting the error, J.
  double composed_fractional_j = 0.0;
  std::uint64_t composed_batches = 0;          // batches priced: full + partial
  std::uint64_t composed_partial_batches = 0;  // bins whose last batch holds fewer than B requests
  std::uint64_t composed_partial_scaled = 0;   // partial batches below every measured batch size: priced
                                               // at k / B of a larger batch (the paper's pricing)
  std::uint64_t composed_fallback_bins = 0;    // bins outside the grid at their lengths: the paper's E_batch
};

// B(I*, O*) and E_batch for one bin: the largest batch measured at (I*, O*) not above
// the caps; without one, by kInterpolate the largest batch (not above the caps) at which
// the bin lies inside the measured grid. Fails with kNotFound naming the bin, its N, the
// batch cap and the nearest measured cells when the bin has no measured cell (kRefuse) or
// lies outside the measured grid at every batch size (kInterpolate).
Result<std::pair<std::uint64_t, Interpolation>> plan_bin(const CellGrid& grid, const EstimateBin& bin,
                                                         const EstimateOptions& options);

// The estimate of one configuration from its cells. With `lengths`, also the corrected
// estimate: each binned request's E_batch interpolated at its real (i, o) at its bin's B,
// summed as E_batch / B per request. Fails as plan_bin fails, or with kNotFound when the
// configuration has no usable cell.
Result<ConfigEstimate> estimate_config(const CellGrid& grid, const std::string& config, const WorkloadBins& bins,
                                       const RequestLengths* lengths, const EstimateOptions& options);

}  // namespace jouleperf::estimate
