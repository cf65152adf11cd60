// Energy per request of a measured replay (docs/serving.md, "Energy per request"): the run's
// measured energy as 10 ms slices (sensor/energy_slices.hpp) split among its requests by
// their streamed token timelines (engine/attribution.hpp, black-box: it needs nothing from
// the engine, so every engine — an HTTP server or llama.cpp in-process — is attributed the
// same way), with the run's idle baseline for the figures above idle.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/attribution.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/sensor/energy_slices.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf::study {

struct RunAttribution {
  Attribution split;        // per request, in the run's order, and the totals
  std::string description;  // "black-box; equal cost per token; idle policy none"
  double slice_s = 0.01;    // slice length used, s
};

// Attributes `run` (its requests' send, token and end times on the sampler's clock) over
// `span` (the Meter's edges: the slices then sum to its total exactly). Fails as
// energy_slices, validate(model) and attribute fail.
Result<RunAttribution> attribute_run(const Sampler& sampler, const SliceSpan& span, const LoadgenRun& run,
                                     const TokenCostModel& model, const AttributionOptions& options,
                                     double slice_s = 0.01);

// {"method", "cost_model", "idle_policy", "slice_s", "total_j", "attributed_j",
//  "unattributed_idle_j", "idle_j", above-idle totals, "energy_per_request_j": percentiles
//  (p50, p90, p99, mean, max, n) over the requests that succeeded}.
nlohmann::json attribution_json(const RunAttribution& a, const LoadgenRun& run);

}  // namespace jouleperf::study
