// Energy per request of a measured replay (docs/serving.md, "Energy per request"): the run's
// measured energy as 10 ms slices (sensor/energy_slices.hpp) split among its requests
// (engine/attribution.hpp) white-box by the engine's own steps where it gives them
// (llamacpp in-process), else black-box by their streamed token timelines (an HTTP
// server); with steps, the black-box split is computed beside it and compared. The run's
// idle baseline gives the figures above idle.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/attribution.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/sensor/energy_slices.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "jouleperf/study/attribution_check.hpp"  // AttributionDifference

namespace jouleperf::study {

struct RunAttribution {
  Attribution split;        // per request, in the run's order, and the totals
  std::string method;       // "white-box" or "black-box"
  std::string cost_model;   // the cost model's basis
  std::string description;  // "white-box; equal cost per token; idle policy none"
  double slice_s = 0.01;    // slice length used, s
  // White-box runs: the black-box split of the same slices, and how far it is from `split`.
  std::optional<Attribution> black_box;
  std::optional<AttributionDifference> black_vs_white;
  std::string black_vs_white_error;  // why there is no comparison (no request succeeded), else ""
};

// Attributes `run` (its requests' send, token and end times on the sampler's clock) over
// `span` (the Meter's edges: the slices then sum to its total exactly): white-box from
// `steps` when given (request indices in the run's order), else black-box. Fails as
// energy_slices, validate(model) and attribute fail, and with kInvalidArgument for a
// step naming a request the run does not have.
Result<RunAttribution> attribute_run(const Sampler& sampler, const SliceSpan& span, const LoadgenRun& run,
                                     const TokenCostModel& model, const AttributionOptions& options,
                                     std::span<const EngineStep> steps = {}, double slice_s = 0.01);
// The same over consecutive spans (a rate-sweep phase and its idle gap): the slices of
// each, in order, sum to the spans' energies together. kInvalidArgument for no span.
Result<RunAttribution> attribute_run(const Sampler& sampler, std::span<const SliceSpan> spans, const LoadgenRun& run,
                                     const TokenCostModel& model, const AttributionOptions& options,
                                     std::span<const EngineStep> steps = {}, double slice_s = 0.01);

// Each request's timeline as the attribution sees it (send, tokens, end, ok).
std::vector<RequestTimeline> timelines_of(const LoadgenRun& run);

// {"method", "description", "cost_model", "idle_policy", "slice_s", "total_j", "attributed_j",
//  "unattributed_idle_j", "idle_j", above-idle totals, "energy_per_request_j": percentiles
//  (p50, p90, p99, mean, max, n) over the requests that succeeded, and for white-box runs
//  "black_box_vs_white_box": the per-request differences (median, p90, max, n)}.
nlohmann::json attribution_json(const RunAttribution& a, const LoadgenRun& run);

}  // namespace jouleperf::study
