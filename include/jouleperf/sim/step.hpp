// Time, power and energy of one engine iteration (a prefill chunk, a decode step of a
// batch, or both in one step) from a roofline over the step's FLOPs and bytes, plus the
// software stack's kernel and host overheads and the tensor-parallel all-reduces.
// Formulas: docs/simulator.md, "Per-iteration model".
#pragma once

#include <cstdint>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"
#include "jouleperf/model/flops.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sim/clocks.hpp"
#include "jouleperf/sim/model_costs.hpp"
#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

// What one step computes, summed over the sequences in it. Plain sums, so the shapes of
// several sequences (or of decode rows and prefill chunks) add up.
struct StepShape {
  double tokens = 0;           // query tokens through the weights (prompt tokens + decode rows * q)
  double sequences = 0;        // sequences (rows) in the step
  double attn_pairs = 0;       // causal (query, key) pairs computed
  double kv_read_tokens = 0;   // KV entries attention reads
  double kv_write_tokens = 0;  // KV entries written
  double cache_tokens = 0;     // KV entries held by the step's sequences before it (cache copies)
  double kv_copy_tokens = 0;   // KV entries copied once more (beam reordering)
  double logit_tokens = 0;     // tokens whose output head is computed
  bool has_prompt = false;     // carries prompt tokens (no decode CUDA graph)

  StepShape& operator+=(const StepShape& o);
};

// `s` with every count multiplied by k (k copies of the same work, e.g. k prompts of one
// shape); k >= 0.
StepShape scaled(StepShape s, double k);

// `rows` sequences each feeding q query tokens (1; gamma + 1 when verifying drafts), whose
// first query attends to context_sum keys in total over the rows (its own key included).
StepShape decode_rows(double rows, double context_sum, double q = 1.0);

// One prompt chunk of q tokens at positions p0 .. p0 + q - 1 of its sequence. Logits:
// the last token's when `last_chunk` (LogitsMode::kLast), every token's with kAll.
// Attention reads the chunk's keys once per 128-query tile (FlashAttention).
StepShape prefill_chunk(double p0, double q, bool last_chunk, LogitsMode logits);

// The cost of one step. Times are per device (all tensor-parallel devices run in lock
// step); flops and energy are totals over the devices.
struct StepCost {
  double flops = 0;             // all devices
  double weight_bytes = 0;      // per device
  double kv_bytes = 0;          // per device
  double activation_bytes = 0;  // per device
  double compute_s = 0;         // FLOPs at peak * compute efficiency
  double memory_s = 0;          // bytes at bandwidth * memory efficiency
  double kernel_gap_s = 0;      // kernels * device-side gap
  double comm_s = 0;            // tensor-parallel all-reduces
  double device_s = 0;          // max(compute_s, memory_s) + kernel_gap_s + comm_s
  double host_dispatch_s = 0;   // kernel launches or one graph launch (overlaps the device)
  double host_serial_s = 0;     // host work that does not overlap the device
  double duration_s = 0;        // host_serial_s + max(host_dispatch_s, device_s)
  double compute_util = 0;      // share of the step at peak matrix throughput
  double memory_util = 0;       // share of the step at peak bandwidth
  double activity = 0;          // PowerModel activity
  double power_w = 0;           // per device
  double energy_j = 0;          // all devices: power_w * duration_s * devices
  bool compute_bound = false;   // compute_s > memory_s
  bool graphed = false;         // replayed as a CUDA graph
  double clock_ratio = 1.0;     // the graphics clock the step ran at / the maximum (clocks.hpp)
  bool power_capped = false;    // the power limit lowered the clock for this step
  bool cap_unmet = false;       // even the lowest clock draws more than the limit (power_w is above it)
};

// A model on a device under a stack, at a weight precision and tensor-parallel degree.
class StepModel {
 public:
  // Fails with kUnsupported when the device has no rate for the precision (fp8 on
  // Ampere), kInvalidArgument when the stack runs on another device kind, tp is 0,
  // above the profile's max_tp, or does not divide the model's heads, or a component is
  // invalid.
  // `clocks` locks the graphics clock and/or limits each device's power (clocks.hpp;
  // validate_clocks' errors).
  static Result<StepModel> create(const ModelInfo& model, const hardware::HardwareProfile& hw,
                                  const SoftwareStack& stack, WeightPrecision precision, std::uint32_t tp,
                                  const PowerModel& power, const ClockSettings& clocks = {});

  // The cost of a step of this shape. Pure arithmetic, no allocation. Under a power limit
  // that the step would exceed at its clock, the highest clock ratio whose power fits
  // (bisection to 1e-4 of the ratio).
  StepCost evaluate(const StepShape& shape) const;
  // The cost at clock ratio r (ignoring any power limit); evaluate() without clock
  // settings is evaluate_at(shape, 1) on the tabulated power curve.
  StepCost evaluate_at(const StepShape& shape, double r) const;
  const ClockSettings& clocks() const { return clocks_; }

  // Weights held by one device, bytes (its tensor-parallel shard).
  double weight_bytes_per_device() const { return weights_per_device_b_; }
  // KV-cache bytes one token takes on one device (heads split over tp, replicated when
  // tp > kv_heads).
  double kv_bytes_per_token_per_device() const { return kv_per_token_dev_b_; }
  // Idle power of the tp devices together, W.
  double idle_power_w() const { return hw_.idle_w * tp_; }
  std::uint32_t tp() const { return tp_; }
  const ModelCosts& costs() const { return costs_; }
  const hardware::HardwareProfile& hardware() const { return hw_; }
  const SoftwareStack& stack() const { return stack_; }
  const PowerModel& power() const { return power_; }
  WeightPrecision precision() const { return precision_; }
  // The matmul rate used for this precision (after fallbacks), FLOP/s per device.
  double matmul_peak_flops() const { return mm_peak_; }
  // The rate used for attention and logits (bf16, else fp32), FLOP/s per device.
  double other_peak_flops() const { return other_peak_; }

 private:
  StepModel() = default;
  ModelCosts costs_;
  hardware::HardwareProfile hw_;
  SoftwareStack stack_;
  PowerModel power_;
  PowerCurve curve_;
  ClockSettings clocks_;
  StepCost cost_at(const StepShape& s, double r, bool exact_power) const;
  WeightPrecision precision_ = WeightPrecision::kBf16;
  std::uint32_t tp_ = 1;
  double mm_peak_ = 0, other_peak_ = 0;
  double weights_per_device_b_ = 0, kv_per_token_dev_b_ = 0;
  // Per-step constants, precomputed so evaluate() is a few dozen multiply-adds.
  double mm_flops_per_token_ = 0;  // FLOPs
  double inv_mm_peak_ = 0, inv_other_peak_ = 0, inv_tp_ = 1, inv_ce_ = 1;
  double decode_attention_extra_ = 0;                           // 1 / decode_attention_efficiency - 1
  double decode_matmul_extra_ = 0;                              // 1 / decode_matmul_efficiency - 1
  double dense_bytes_ = 0, head_bytes_ = 0, expert_bytes_ = 0;  // per device
  double kv_bytes_per_entry_ = 0;                               // per device
  double gqa_factor_ = 0;                                       // extra KV passes per cached/written entry
  double act_bytes_per_token_ = 0, act_bytes_per_logit_ = 0;    // per device
  double s_per_byte_ = 0, inv_bw_ = 0;
  double kernel_gap_total_s_ = 0, eager_dispatch_s_ = 0, host_serial_base_s_ = 0;
  double comm_fixed_s_ = 0, comm_s_per_token_ = 0;
};

// Achieved fraction of link bandwidth in an all-reduce (NCCL bus bandwidth ~80% of peak).
inline constexpr double kLinkEfficiency = 0.8;
// FlashAttention query tile: a prompt chunk reads its keys once per tile of this many queries.
inline constexpr double kAttentionQueryTile = 128.0;

}  // namespace jouleperf::sim
