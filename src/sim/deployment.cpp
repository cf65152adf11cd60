// A configuration's deployment: the step models of the target (and draft) model, and
// the KV-cache capacity left on each replica once weights and workspace are placed.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "replica.hpp"

namespace jouleperf::sim::detail {

Result<Deployment> make_deployment(const SimConfig& c) {
  if (auto st = validate_config(c); !st) return st.error();
  auto target = StepModel::create(c.model, c.hardware, c.stack, c.precision, c.tp, c.power, c.clocks);
  if (!target) return target.error();
  std::optional<StepModel> draft;
  const DecodingConfig& dc = c.decoding;
  if (dc.spec_tokens > 0) {
    auto d = StepModel::create(*dc.draft, c.hardware, c.stack, c.precision, c.tp, c.power, c.clocks);
    if (!d) return make_error(d.error().code, "draft model: " + d.error().message);
    draft = std::move(*d);
  }
  Deployment dep{std::move(*target), std::move(draft)};
  dep.gamma = dc.spec_tokens;
  dep.tau = expected_tokens_per_step(dc.spec_tokens, dc.spec_acceptance);
  dep.q = dc.spec_tokens > 0 ? static_cast<double>(dc.spec_tokens) + 1.0 : 1.0;
  dep.beams = static_cast<double>(dc.beam_width);
  dep.prefill_expansion = c.stack.beams_prefill_once ? 1.0 : dep.beams;
  dep.beams_share_prompt = c.stack.beams_share_prompt;
  dep.devices = static_cast<double>(c.tp);
  dep.idle_w = dep.target.idle_power_w();

  // Memory per device: weights, the workspace of the largest step (hidden and FFN
  // activations of token_budget tokens, fp32 logits of max_batch rows), the rest is KV.
  const ModelCosts& mc = dep.target.costs();
  const double t = dep.devices;
  const double workspace = static_cast<double>(c.token_budget) * (4.0 * mc.dim + 2.0 * mc.ffn_active / t) * 2.0 +
                           static_cast<double>(c.max_batch) * dep.beams * dep.q * (mc.vocab / t) * 4.0;
  const double weights = dep.target.weight_bytes_per_device() + (dep.draft ? dep.draft->weight_bytes_per_device() : 0);
  const double usable = c.hardware.memory_bytes * c.memory_utilization;
  const double kv_room = usable - weights - workspace;
  const double per_token =
      dep.target.kv_bytes_per_token_per_device() + (dep.draft ? dep.draft->kv_bytes_per_token_per_device() : 0.0);
  if (kv_room <= per_token * 16.0)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{} does not fit {} x {} (tp {}): weights {:.1f} GiB + workspace {:.1f} GiB per "
                                  "device against {:.1f} GiB usable ({}% of {:.1f} GiB)",
                                  c.model.arch.name, c.tp, c.hardware.name, c.tp, weights / 1073741824.0,
                                  workspace / 1073741824.0, usable / 1073741824.0,
                                  std::lround(c.memory_utilization * 100), c.hardware.memory_bytes / 1073741824.0));
  dep.kv_capacity_tokens = std::floor(kv_room / per_token);
  return dep;
}

bool fits_alone(const SimConfig& c, const Deployment& d, const Req& r) {
  const double in = r.input, out = r.output, w = d.beams;
  if (c.model.arch.context_length > 0 && in + out > static_cast<double>(c.model.arch.context_length)) return false;
  const double need = (d.beams_share_prompt ? in + w * out : w * (in + out)) + kBlockWasteTokens * w + d.q;
  return need <= d.kv_capacity_tokens * (1.0 - kAdmitWatermark);
}

StepTotals step_totals(const Deployment& d, const StepShape& target, const StepShape& draft_first,
                       std::uint32_t draft_forwards, double draft_rows, double draft_context) {
  const StepCost tc = d.target.evaluate(target);
  StepTotals out{tc.duration_s, tc.energy_j, tc.flops, 0.0, 0.0};
  double cu = tc.compute_util * tc.duration_s, mu = tc.memory_util * tc.duration_s;
  if (d.draft) {
    for (std::uint32_t j = 0; j < draft_forwards; ++j) {
      StepShape ds = draft_rows > 0 ? decode_rows(draft_rows, draft_context + j * draft_rows, 1.0) : StepShape{};
      if (j == 0) ds += draft_first;
      const StepCost dc = d.draft->evaluate(ds);
      out.duration_s += dc.duration_s;
      out.energy_j += dc.energy_j;
      out.flops += dc.flops;
      cu += dc.compute_util * dc.duration_s;
      mu += dc.memory_util * dc.duration_s;
    }
  }
  out.compute_util = cu / out.duration_s;
  out.memory_util = mu / out.duration_s;
  return out;
}

}  // namespace jouleperf::sim::detail
