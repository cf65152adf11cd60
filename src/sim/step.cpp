#include "jouleperf/sim/step.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jouleperf::sim {

StepShape& StepShape::operator+=(const StepShape& o) {
  tokens += o.tokens;
  sequences += o.sequences;
  attn_pairs += o.attn_pairs;
  kv_read_tokens += o.kv_read_tokens;
  kv_write_tokens += o.kv_write_tokens;
  cache_tokens += o.cache_tokens;
  kv_copy_tokens += o.kv_copy_tokens;
  logit_tokens += o.logit_tokens;
  has_prompt = has_prompt || o.has_prompt;
  return *this;
}

StepShape decode_rows(double rows, double context_sum, double q) {
  StepShape s;
  if (rows <= 0.0) return s;
  s.tokens = rows * q;
  s.sequences = rows;
  // Query j (0-based) of a row whose first query sees c keys sees c + j keys.
  s.attn_pairs = q * context_sum + rows * q * (q - 1.0) / 2.0;
  s.kv_read_tokens = context_sum + rows * (q - 1.0);
  s.kv_write_tokens = rows * q;
  s.cache_tokens = std::max(0.0, context_sum - rows);
  s.logit_tokens = rows * q;  // every position is sampled (draft verification needs all)
  return s;
}

StepShape prefill_chunk(double p0, double q, bool last_chunk, LogitsMode logits) {
  StepShape s;
  if (q <= 0.0) return s;
  s.tokens = q;
  s.sequences = 1.0;
  s.attn_pairs = q * p0 + q * (q + 1.0) / 2.0;
  s.kv_read_tokens = (p0 + q) * std::ceil(q / kAttentionQueryTile);
  s.kv_write_tokens = q;
  s.cache_tokens = p0;
  s.logit_tokens = logits == LogitsMode::kAll ? q : (last_chunk ? 1.0 : 0.0);
  s.has_prompt = true;
  return s;
}

namespace {

// The device's rate for `p`, falling back to bf16 and then fp32 where it has no unit
// for `p` (weight-only quantization dequantizes into the bf16 path).
double rate_with_fallback(const hardware::PeakFlops& f, hardware::Precision p) {
  if (f.at(p) > 0.0) return f.at(p);
  if (f.bf16 > 0.0) return f.bf16;
  return f.fp32;
}

}  // namespace

Result<StepModel> StepModel::create(const ModelInfo& model, const hardware::HardwareProfile& hw,
                                    const SoftwareStack& stack, WeightPrecision precision, std::uint32_t tp,
                                    const PowerModel& power) {
  if (auto st = hardware::validate_profile(hw); !st) return st.error();
  if (auto st = validate_stack(stack); !st) return st.error();
  if (auto st = validate_power_model(power); !st) return st.error();
  auto costs = model_costs(model);
  if (!costs) return costs.error();
  if (stack.device != hw.kind)
    return make_error(Errc::kInvalidArgument, fmt::format("stack '{}' runs on {}s; '{}' is a {}", stack.name,
                                                          hardware::device_kind_name(stack.device), hw.name,
                                                          hardware::device_kind_name(hw.kind)));
  if (tp == 0 || tp > hw.max_tp)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("tensor-parallel degree {} on '{}': must be 1..{}", tp, hw.name, hw.max_tp));
  if (model.arch.heads % tp != 0)
    return make_error(Errc::kInvalidArgument, fmt::format("tensor-parallel degree {} does not divide {}'s {} heads", tp,
                                                          model.arch.name, model.arch.heads));
  StepModel m;
  m.costs_ = std::move(*costs);
  m.hw_ = hw;
  m.stack_ = stack;
  m.power_ = power;
  m.precision_ = precision;
  m.tp_ = tp;
  m.bpw_ = bytes_per_weight(precision);
  const auto& f = hw.peak_flops;
  switch (precision) {
    case WeightPrecision::kBf16: m.mm_peak_ = rate_with_fallback(f, hardware::Precision::kBf16); break;
    case WeightPrecision::kFp8:
      if (f.fp8 <= 0.0)
        return make_error(Errc::kUnsupported, fmt::format("'{}' has no FP8 tensor cores for fp8 weights", hw.name));
      m.mm_peak_ = f.fp8;
      break;
    case WeightPrecision::kInt8: m.mm_peak_ = rate_with_fallback(f, hardware::Precision::kInt8); break;
    case WeightPrecision::kInt4: m.mm_peak_ = rate_with_fallback(f, hardware::Precision::kBf16); break;
  }
  m.other_peak_ = rate_with_fallback(f, hardware::Precision::kBf16);
  const double t = static_cast<double>(tp);
  const double kvh = m.costs_.kv_heads;
  m.kv_share_ = std::ceil(kvh / t) / kvh;
  m.weights_per_device_b_ = m.bpw_ * m.costs_.total_params / t;
  m.kv_per_token_dev_b_ = m.costs_.kv_bytes_per_token * m.kv_share_;
  m.kernels_per_forward_ =
      m.costs_.layers * stack.kernels_per_layer + stack.kernels_fixed + (tp > 1 ? 2.0 * m.costs_.layers : 0.0);
  m.link_bps_ = hw.tp_link.bandwidth_bps;
  return m;
}

StepCost StepModel::evaluate(const StepShape& s) const {
  const ModelCosts& c = costs_;
  const SoftwareStack& st = stack_;
  const double t = static_cast<double>(tp_);
  StepCost r;

  const double mm_flops = s.tokens * c.matmul_flops_per_token;
  const double other_flops = s.attn_pairs * c.attn_flops_per_pair + s.logit_tokens * c.logits_flops_per_token;
  r.flops = mm_flops + other_flops;

  // Weights: the dense part always, the routed experts the step's tokens touch, the
  // output head when logits are computed. Split over the tp devices.
  double params = c.dense_params;
  if (c.expert_params > 0.0)
    params += c.layers * experts_touched(c.experts, c.experts_used, s.tokens) * c.expert_params;
  if (s.logit_tokens > 0.0) params += c.head_params;
  r.weight_bytes = bpw_ * params / t;

  // KV cache: what attention reads and the step writes, plus the stack's copies.
  double kv_tokens =
      s.kv_read_tokens + s.kv_write_tokens + st.kv_cache_copy_passes * s.cache_tokens + 2.0 * s.kv_copy_tokens;
  if (st.gqa_expand) kv_tokens += 2.0 * (c.heads / c.kv_heads) * (s.cache_tokens + s.kv_write_tokens);
  r.kv_bytes = kv_tokens * c.kv_bytes_per_token * kv_share_;

  // Activations: 2-byte passes over hidden-size (replicated under tp) and FFN-width
  // (split) vectors per layer per token; fp32 logits (vocab split).
  r.activation_bytes =
      s.tokens * c.layers * (st.activation_passes_dim * c.dim + st.activation_passes_ffn * c.ffn_active / t) * 2.0 +
      s.logit_tokens * (c.vocab / t) * 4.0 * st.logit_passes;

  const double bytes = r.weight_bytes + r.kv_bytes + r.activation_bytes;
  const double at_peak_s = (mm_flops / t) / mm_peak_ + (other_flops / t) / other_peak_;
  r.compute_s = at_peak_s / st.compute_efficiency;
  r.memory_s = bytes / (hw_.memory_bandwidth_bps * st.memory_efficiency);
  r.compute_bound = r.compute_s > r.memory_s;
  r.kernel_gap_s = kernels_per_forward_ * st.kernel_gap_s;
  if (tp_ > 1) {
    // Two all-reduces per layer (after attention and after the FFN) of the step's hidden
    // states, bf16; a ring: 2(t-1) steps of latency plus 2(t-1)/t of the data per device.
    const double msg = s.tokens * c.dim * 2.0;
    const double one = 2.0 * (t - 1.0) * (hw_.tp_link.latency_s + msg / (t * link_bps_ * kLinkEfficiency));
    r.comm_s = 2.0 * c.layers * one;
  }
  r.device_s = std::max(r.compute_s, r.memory_s) + r.kernel_gap_s + r.comm_s;

  r.graphed = s.has_prompt ? st.prefill_graphs : (st.decode_graphs && s.sequences <= st.graph_max_batch);
  r.host_dispatch_s = r.graphed ? st.graph_launch_s : kernels_per_forward_ * st.host_s_per_kernel;
  r.host_serial_s = st.host_s_per_step + st.host_s_per_sequence * s.sequences + (tp_ > 1 ? st.tp_host_s_per_step : 0.0);
  r.duration_s = r.host_serial_s + std::max(r.host_dispatch_s, r.device_s);

  r.compute_util = r.duration_s > 0.0 ? at_peak_s / r.duration_s : 0.0;
  r.memory_util = r.duration_s > 0.0 ? bytes / hw_.memory_bandwidth_bps / r.duration_s : 0.0;
  r.activity = activity(power_, r.compute_util, r.memory_util);
  r.power_w = step_power_w(power_, hw_, r.activity);
  r.energy_j = r.power_w * r.duration_s * t;
  return r;
}

}  // namespace jouleperf::sim
