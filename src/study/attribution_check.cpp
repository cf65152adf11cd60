#include "jouleperf/study/attribution_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jouleperf/sim/step_trace.hpp"

namespace jouleperf::study {
namespace {

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::uint64_t whole(double v) { return static_cast<std::uint64_t>(std::llround(std::max(0.0, v))); }

}  // namespace

Result<AttributionDifference> compare_attributions(const Attribution& white, const Attribution& black,
                                                   std::span<const RequestTimeline> timelines) {
  if (white.requests.size() != black.requests.size() || white.requests.size() != timelines.size())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("compare attributions: {} white-box, {} black-box and {} timelines",
                                  white.requests.size(), black.requests.size(), timelines.size()));
  std::vector<double> abs_rel;
  double signed_sum = 0;
  for (std::size_t i = 0; i < timelines.size(); ++i) {
    const double w = white.requests[i].energy_j;
    if (!timelines[i].ok || !(w > 0)) continue;
    const double d = (black.requests[i].energy_j - w) / w;
    abs_rel.push_back(std::abs(d));
    signed_sum += d;
  }
  if (abs_rel.empty())
    return make_error(Errc::kInvalidArgument, "compare attributions: no request succeeded with energy above 0");
  AttributionDifference out;
  out.requests = abs_rel.size();
  out.median_abs_rel = quantile(abs_rel, 0.5);
  out.p90_abs_rel = quantile(abs_rel, 0.9);
  out.max_abs_rel = *std::max_element(abs_rel.begin(), abs_rel.end());
  out.mean_signed_rel = signed_sum / static_cast<double>(abs_rel.size());
  return out;
}

Result<SimAttributionCheck> check_sim_attribution(const sim::SimConfig& config,
                                                  std::span<const workload::TimedRequest> requests,
                                                  const TokenCostModel& model, const AttributionOptions& options) {
  if (auto st = validate(model); !st) return st.error();
  sim::StepTrace trace;
  sim::SimConfig c = config;
  c.keep_requests = true;  // each request's outcome says whether it finished
  auto run = sim::simulate_traced(c, requests, trace);
  if (!run) return run.error();

  SimAttributionCheck out;
  out.description = run->description;
  out.sim_energy_j = run->energy_j;
  std::vector<EnergySlice> slices;
  std::vector<EngineStep> steps;
  double busy_s = 0, sequences = 0;
  for (const auto& s : trace.steps) {
    slices.push_back({s.t0_s, s.t1_s, s.energy_j});
    if (s.work.empty()) continue;
    EngineStep e{s.t0_s, s.t1_s, {}};
    for (const auto& w : s.work) e.work.push_back({w.request, w.prefill, whole(w.tokens), whole(w.context)});
    busy_s += s.t1_s - s.t0_s;
    sequences += static_cast<double>(s.work.size());
    steps.push_back(std::move(e));
  }
  out.steps = steps.size();
  const double span_s = slices.empty() ? 0.0 : slices.back().t1_s - slices.front().t0_s;
  out.busy_share = span_s > 0 ? busy_s / span_s : 0.0;
  out.mean_sequences = steps.empty() ? 0.0 : sequences / static_cast<double>(steps.size());

  for (std::size_t i = 0; i < requests.size(); ++i) {
    RequestTimeline t;
    t.send_s = requests[i].arrival_s;
    t.input_tokens = std::max<std::uint32_t>(1, requests[i].input_tokens);
    t.token_s = trace.token_s[i];
    const auto& o = run->per_request[i];
    t.ok = std::isfinite(o.e2e_s) && !t.token_s.empty();
    if (!t.token_s.empty()) t.first_token_s = t.token_s.front();
    t.end_s = t.token_s.empty() ? t.send_s : t.token_s.back();
    out.timelines.push_back(std::move(t));
  }
  auto white = attribute(slices, white_box_segments(steps, model), out.timelines, options);
  if (!white) return white.error();
  auto black = attribute(slices, black_box_segments(out.timelines, model), out.timelines, options);
  if (!black) return black.error();
  out.white_box = std::move(*white);
  out.black_box = std::move(*black);
  auto diff = compare_attributions(out.white_box, out.black_box, out.timelines);
  if (!diff) return diff.error();
  out.difference = *diff;
  return out;
}

}  // namespace jouleperf::study
