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

std::vector<RequestTimeline> timelines_of(const LoadgenRun& run) {
  std::vector<RequestTimeline> out;
  for (const auto& q : run.requests) out.push_back(timeline_of(q.result));
  return out;
}

Result<RunAttribution> attribute_run(const Sampler& sampler, const SliceSpan& span, const LoadgenRun& run,
                                     const TokenCostModel& model, const AttributionOptions& options,
                                     std::span<const EngineStep> steps, double slice_s) {
  return attribute_run(sampler, std::span<const SliceSpan>(&span, 1), run, model, options, steps, slice_s);
}

Result<RunAttribution> attribute_run(const Sampler& sampler, std::span<const SliceSpan> spans, const LoadgenRun& run,
                                     const TokenCostModel& model, const AttributionOptions& options,
                                     std::span<const EngineStep> steps, double slice_s) {
  if (auto st = validate(model); !st) return st.error();
  if (spans.empty()) return make_error(Errc::kInvalidArgument, "attribution: no measured span");
  std::vector<EnergySlice> all;
  for (const auto& span : spans) {
    if (span.t1_s <= span.t0_s) continue;  // an empty interval (a gap of 0 s) has no energy
    auto part = energy_slices(sampler, span, slice_s);
    if (!part) return part.error();
    all.insert(all.end(), part->begin(), part->end());
  }
  const auto* slices = &all;
  const std::vector<RequestTimeline> timelines = timelines_of(run);
  auto black = attribute(*slices, black_box_segments(timelines, model), timelines, options);
  if (!black) return black.error();
  RunAttribution out;
  out.cost_model = model.basis;
  out.slice_s = slice_s;
  if (steps.empty()) {
    out.method = "black-box";
    out.split = std::move(*black);
  } else {
    for (const auto& s : steps)
      for (const auto& w : s.work)
        if (w.request >= timelines.size())
          return make_error(Errc::kInvalidArgument, fmt::format("white-box attribution: a step names request {} of {}",
                                                                w.request, timelines.size()));
    auto white = attribute(*slices, white_box_segments(steps, model), timelines, options);
    if (!white) return white.error();
    out.method = "white-box";
    out.split = std::move(*white);
    if (auto d = compare_attributions(out.split, *black, timelines))
      out.black_vs_white = *d;
    else
      out.black_vs_white_error = d.error().message;
    out.black_box = std::move(*black);
  }
  out.description =
      fmt::format("{}; {}; idle policy {}", out.method, model.basis, idle_policy_name(options.idle_policy));
  return out;
}

nlohmann::json attribution_json(const RunAttribution& a, const LoadgenRun& run) {
  std::vector<double> ok;
  for (std::size_t i = 0; i < run.requests.size() && i < a.split.requests.size(); ++i)
    if (run.requests[i].result.ok) ok.push_back(a.split.requests[i].energy_j);
  const Percentiles p = percentiles(ok);
  nlohmann::json bw = nullptr;
  if (a.black_vs_white)
    bw = {{"median_abs_rel", a.black_vs_white->median_abs_rel},
          {"p90_abs_rel", a.black_vs_white->p90_abs_rel},
          {"max_abs_rel", a.black_vs_white->max_abs_rel},
          {"mean_signed_rel", a.black_vs_white->mean_signed_rel},
          {"n", a.black_vs_white->requests}};
  return {{"method", a.method},
          {"description", a.description},
          {"cost_model", a.cost_model},
          {"black_box_vs_white_box", bw},
          {"black_box_vs_white_box_error",
           a.black_vs_white_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.black_vs_white_error)},
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
