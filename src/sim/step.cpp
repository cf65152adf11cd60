#include "jouleperf/sim/step.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jouleperf::sim {

StepShape scaled(StepShape s, double k) {
  s.tokens *= k;
  s.sequences *= k;
  s.attn_pairs *= k;
  s.kv_read_tokens *= k;
  s.kv_write_tokens *= k;
  s.cache_tokens *= k;
  s.kv_copy_tokens *= k;
  s.logit_tokens *= k;
  return s;
}

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
                                    const PowerModel& power, const ClockSettings& clocks) {
  if (auto st = hardware::validate_profile(hw); !st) return st.error();
  if (auto st = validate_clocks(clocks, hw); !st) return st.error();
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
  m.curve_ = PowerCurve(power, hw);
  m.clocks_ = clocks;
  m.precision_ = precision;
  m.tp_ = tp;
  const double bpw = bytes_per_weight(precision);
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
    case WeightPrecision::kFp32: m.mm_peak_ = f.fp32 > 0.0 ? f.fp32 : f.bf16; break;
  }
  m.other_peak_ = rate_with_fallback(f, hardware::Precision::kBf16);
  const ModelCosts& c = m.costs_;
  const double t = static_cast<double>(tp);
  const double kv_share = std::ceil(c.kv_heads / t) / c.kv_heads;
  m.weights_per_device_b_ = bpw * c.total_params / t;
  m.kv_per_token_dev_b_ = c.kv_bytes_per_token * kv_share;

  m.mm_flops_per_token_ = c.matmul_flops_per_token;
  m.inv_tp_ = 1.0 / t;
  m.inv_mm_peak_ = 1.0 / m.mm_peak_;
  m.inv_other_peak_ = 1.0 / m.other_peak_;
  m.inv_ce_ = 1.0 / stack.compute_efficiency;
  m.decode_attention_extra_ = 1.0 / stack.decode_attention_efficiency - 1.0;
  m.decode_matmul_extra_ = 1.0 / stack.decode_matmul_efficiency - 1.0;
  m.dense_bytes_ = bpw * c.dense_params / t;
  m.head_bytes_ = bpw * c.head_params / t;
  m.expert_bytes_ = bpw * c.layers * c.expert_params / t;
  m.kv_bytes_per_entry_ = m.kv_per_token_dev_b_;
  m.gqa_factor_ = stack.gqa_expand ? 2.0 * c.heads / c.kv_heads : 0.0;
  m.act_bytes_per_token_ =
      c.layers * (stack.activation_passes_dim * c.dim + stack.activation_passes_ffn * c.ffn_active / t) * 2.0;
  m.act_bytes_per_logit_ = (c.vocab / t) * 4.0 * stack.logit_passes;
  m.s_per_byte_ = 1.0 / (hw.memory_bandwidth_bps * stack.memory_efficiency);
  m.inv_bw_ = 1.0 / hw.memory_bandwidth_bps;
  const double kernels = c.layers * stack.kernels_per_layer + stack.kernels_fixed + (tp > 1 ? 2.0 * c.layers : 0.0);
  m.kernel_gap_total_s_ = kernels * stack.kernel_gap_s;
  m.eager_dispatch_s_ = kernels * stack.host_s_per_kernel;
  m.host_serial_base_s_ = stack.host_s_per_step + (tp > 1 ? stack.tp_host_s_per_step : 0.0);
  if (tp > 1) {
    // Two all-reduces per layer (after attention and after the FFN) of the step's hidden
    // states, bf16, on a ring: 2(t-1) steps of latency plus 2(t-1)/t of the data per device.
    const double rounds = 2.0 * c.layers * 2.0 * (t - 1.0);
    m.comm_fixed_s_ = rounds * hw.tp_link.latency_s;
    m.comm_s_per_token_ = rounds * c.dim * 2.0 / (t * hw.tp_link.bandwidth_bps * kLinkEfficiency);
  }
  return m;
}

StepCost StepModel::evaluate(const StepShape& s) const {
  if (!clocks_.any()) return cost_at(s, 1.0, false);
  const double top = clocks_.ratio_for(s.has_prompt);
  StepCost r = cost_at(s, top, true);
  if (!clocks_.power_limit_w || r.power_w <= *clocks_.power_limit_w) return r;
  // Power rises with the clock: the highest ratio under the limit, by bisection.
  const double cap = *clocks_.power_limit_w;
  double lo = kMinClockRatio, hi = top;
  StepCost fits = cost_at(s, lo, true);
  fits.power_capped = true;
  if (fits.power_w > cap) {
    fits.cap_unmet = true;
    return fits;
  }
  while (hi - lo > 1e-4) {
    const double mid = 0.5 * (lo + hi);
    StepCost c = cost_at(s, mid, true);
    if (c.power_w <= cap) {
      lo = mid;
      fits = c;
      fits.power_capped = true;
    } else {
      hi = mid;
    }
  }
  return fits;
}

StepCost StepModel::evaluate_at(const StepShape& s, double r) const { return cost_at(s, r, true); }

StepCost StepModel::cost_at(const StepShape& s, double ratio, bool exact_power) const {
  const ModelCosts& c = costs_;
  const SoftwareStack& st = stack_;
  StepCost r;

  const double mm_flops = s.tokens * mm_flops_per_token_;
  const double attn_flops = s.attn_pairs * c.attn_flops_per_pair;
  const double other_flops = attn_flops + s.logit_tokens * c.logits_flops_per_token;
  r.flops = mm_flops + other_flops;

  // Weights: the dense part always, the routed experts the step's tokens touch, the
  // output head when logits are computed; each device reads its 1/tp share.
  r.weight_bytes = dense_bytes_;
  if (expert_bytes_ > 0.0) r.weight_bytes += expert_bytes_ * experts_touched(c.experts, c.experts_used, s.tokens);
  if (s.logit_tokens > 0.0) r.weight_bytes += head_bytes_;

  // KV cache: what attention reads and the step writes, plus the stack's copies.
  const double kv_entries = s.kv_read_tokens + s.kv_write_tokens + st.kv_cache_copy_passes * s.cache_tokens +
                            2.0 * s.kv_copy_tokens + gqa_factor_ * (s.cache_tokens + s.kv_write_tokens);
  r.kv_bytes = kv_entries * kv_bytes_per_entry_;

  // Activations: 2-byte passes over hidden-size (replicated under tp) and FFN-width
  // (split) vectors per layer per token; fp32 logits (vocab split).
  r.activation_bytes = s.tokens * act_bytes_per_token_ + s.logit_tokens * act_bytes_per_logit_;

  const double bytes = r.weight_bytes + r.kv_bytes + r.activation_bytes;
  const double at_peak_s = (mm_flops * inv_mm_peak_ + other_flops * inv_other_peak_) * inv_tp_;
  // A decode-only step's attention runs slower than peak by the stack's decode attention
  // efficiency: extra time, not extra utilization.
  const double attn_at_peak_s = attn_flops * inv_other_peak_ * inv_tp_;
  const double attn_extra_s = s.has_prompt ? 0.0 : attn_at_peak_s * decode_attention_extra_;
  // Likewise its matrix products (weights and logits) by the decode matmul efficiency.
  const double mm_extra_s = s.has_prompt ? 0.0 : (at_peak_s - attn_at_peak_s) * decode_matmul_extra_;
  // At clock ratio `ratio` (clocks.hpp): compute and device-side gaps take 1 / ratio as
  // long; memory streams at full bandwidth down to kMemorySaturationRatio.
  const double inv_clock = 1.0 / ratio;
  const double mem_slow = std::max(1.0, kMemorySaturationRatio * inv_clock);
  r.clock_ratio = ratio;
  r.compute_s = (at_peak_s + attn_extra_s + mm_extra_s) * inv_ce_ * inv_clock;
  r.memory_s = bytes * s_per_byte_ * mem_slow;
  r.compute_bound = r.compute_s > r.memory_s;
  r.kernel_gap_s = kernel_gap_total_s_ * inv_clock;
  r.comm_s = tp_ > 1 ? comm_fixed_s_ + comm_s_per_token_ * s.tokens : 0.0;
  double roofline_s = std::max(r.compute_s, r.memory_s);
  if (st.attention_roofline_separate) {
    // Attention kernels (its FLOPs against the KV bytes) after the rest (GEMMs against
    // the weights and activations).
    const double attn_compute_s = (attn_at_peak_s + attn_extra_s) * inv_ce_ * inv_clock;
    const double attn_memory_s = r.kv_bytes * s_per_byte_ * mem_slow;
    roofline_s =
        std::max(r.compute_s - attn_compute_s, r.memory_s - attn_memory_s) + std::max(attn_compute_s, attn_memory_s);
  }
  r.device_s = roofline_s + r.kernel_gap_s + r.comm_s;

  r.graphed = s.has_prompt ? st.prefill_graphs : (st.decode_graphs && s.sequences <= st.graph_max_batch);
  r.host_dispatch_s = r.graphed ? st.graph_launch_s : eager_dispatch_s_;
  r.host_serial_s = host_serial_base_s_ + st.host_s_per_sequence * s.sequences;
  r.duration_s = r.host_serial_s + std::max(r.host_dispatch_s, r.device_s);

  const double inv_dur = r.duration_s > 0.0 ? 1.0 / r.duration_s : 0.0;
  r.compute_util = at_peak_s * inv_clock * inv_dur;  // of the peak at this clock
  r.memory_util = bytes * inv_bw_ * inv_dur;
  r.activity = activity(power_, r.compute_util, r.memory_util);
  r.power_w =
      exact_power ? clocked_power_w(power_, hw_, r.compute_util, r.memory_util, ratio) : curve_.power_w(r.activity);
  r.energy_j = r.power_w * r.duration_s * static_cast<double>(tp_);
  return r;
}

}  // namespace jouleperf::sim
