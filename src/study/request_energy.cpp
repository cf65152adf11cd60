#include "jouleperf/study/request_energy.hpp"

#include <fmt/format.h>

namespace jouleperf::study {
namespace {

RequestTimeline timeline_of(const OpenAiResult& r) {
  RequestTimeline t;
  t.send_s = r.send_s;
  t.token_s = r.token_s;
  if (!r.token_s.empty()) t.first_token_s = r.token_s.front();
  t.end_s = std::max(r.end_s, r.send_s);
  t.input_tokens = r.input_tokens_asked;
  t.ok = r.ok;
  return t;
}

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

Result<RunAttribution> attribute_run(const Sampler& sampler, const SliceSpan& span, const LoadgenRun& run,
                                     const TokenCostModel& model, const AttributionOptions& options, double slice_s) {
  if (auto st = validate(model); !st) return st.error();
  auto slices = energy_slices(sampler, span, slice_s);
  if (!slices) return slices.error();
  std::vector<RequestTimeline> timelines;
  for (const auto& q : run.requests) timelines.push_back(timeline_of(q.result));
  auto split = attribute(*slices, black_box_segments(timelines, model), timelines, options);
  if (!split) return split.error();
  RunAttribution out;
  out.split = std::move(*split);
  out.description = fmt::format("black-box; {}; idle policy {}", model.basis, idle_policy_name(options.idle_policy));
  out.slice_s = slice_s;
  return out;
}

nlohmann::json attribution_json(const RunAttribution& a, const LoadgenRun& run) {
  std::vector<double> ok;
  for (std::size_t i = 0; i < run.requests.size() && i < a.split.requests.size(); ++i)
    if (run.requests[i].result.ok) ok.push_back(a.split.requests[i].energy_j);
  const Percentiles p = percentiles(ok);
  return {{"method", "black-box"},
          {"description", a.description},
          {"idle_policy", std::string(idle_policy_name(a.split.idle_policy))},
          {"slice_s", a.slice_s},
          {"total_j", a.split.total_j},
          {"attributed_j", a.split.attributed_j},
          {"unattributed_idle_j", a.split.unattributed_idle_j},
          {"idle_j", a.split.idle_j},
          {"total_above_idle_j", opt(a.split.total_above_idle_j)},
          {"attributed_above_idle_j", opt(a.split.attributed_above_idle_j)},
          {"unattributed_above_idle_j", opt(a.split.unattributed_above_idle_j)},
          {"energy_per_request_j",
           {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"mean", p.mean}, {"max", p.max}, {"n", ok.size()}}}};
}

}  // namespace jouleperf::study
