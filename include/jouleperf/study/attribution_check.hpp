// Checks energy-per-request attribution where the truth is known: the black-box method
// (token timeline only, what an HTTP server shows) against the white-box one (each
// engine step split among its sequences) over the same measured or simulated energy
// (docs/serving.md, "Energy per request", "Black-box against white-box").
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/attribution.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::study {

// Per-request differences between two attributions of the same run.
struct AttributionDifference {
  std::size_t requests = 0;                                     // compared: succeeded, with white-box energy > 0
  double median_abs_rel = 0, p90_abs_rel = 0, max_abs_rel = 0;  // |black - white| / white
  double mean_signed_rel = 0;                                   // mean of (black - white) / white
};

// Compares `black` with `white` (same requests, same order) over the requests whose
// timeline says they succeeded. kInvalidArgument when the sizes differ or none compares.
Result<AttributionDifference> compare_attributions(const Attribution& white, const Attribution& black,
                                                   std::span<const RequestTimeline> timelines);

// One simulated run attributed both ways. Everything in it is simulated.
struct SimAttributionCheck {
  Attribution white_box, black_box;
  AttributionDifference difference;
  std::vector<RequestTimeline> timelines;  // per request, simulated seconds
  std::size_t steps = 0;                   // engine steps (idle spans not counted)
  double busy_share = 0;                   // time in steps / the run's span
  double mean_sequences = 0;               // sequences per step, mean
  double sim_energy_j = 0;                 // the simulator's own total (steps + idle)
  std::string description;                 // the simulated deployment
};

// Simulates `requests` on `config` (one replica, continuous batching) with its step
// trace, and attributes the run's energy — its steps and idle spans as slices — white-box
// from the steps and black-box from the requests' token times, by `model` and `options`.
// Fails as sim::simulate_traced, validate(model) and attribute() fail.
Result<SimAttributionCheck> check_sim_attribution(const sim::SimConfig& config,
                                                  std::span<const workload::TimedRequest> requests,
                                                  const TokenCostModel& model, const AttributionOptions& options);

}  // namespace jouleperf::study
