// Software stacks: how an inference engine turns a step's FLOPs and bytes into time —
// achievable efficiency, kernels launched per layer, host (CPU) time per kernel and per
// step, CUDA graphs, and the memory traffic its implementation adds. The named stacks'
// parameters and the reasoning behind them are in docs/simulator.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::sim {

enum class Batching {
  kStatic,      // HF generate: a batch runs until its longest member ends
  kContinuous,  // vLLM / llama-server: sequences join and leave at every iteration
};
// "static" / "continuous"; kInvalidArgument otherwise.
Result<Batching> parse_batching(std::string_view s);
std::string_view batching_name(Batching b);

struct SoftwareStack {
  std::string name;                                          // "vllm"
  std::string description;                                   // one line
  hardware::DeviceKind device = hardware::DeviceKind::kGpu;  // the kind of device it runs on
  Batching batching = Batching::kContinuous;                 // its scheduler

  // Roofline efficiencies: the fraction of the device's peak a step's matmuls reach when
  // compute-bound, and of its bandwidth when memory-bound.
  double compute_efficiency = 0.7;
  double memory_efficiency = 0.8;
  // Decode-only steps: attention (one query per sequence against its cache) reaches this
  // share of the compute-bound rate above. 1 for the built-in stacks; `jouleperf
  // calibrate` fits it (llama.cpp's CPU attention kernels are far slower per FLOP in
  // decode than its matmuls).
  double decode_attention_efficiency = 1.0;
  // Decode-only steps: their matrix products (weights times one token per sequence, and
  // the logits) reach this share of the rate prefill's matrix products reach. 1 for the
  // built-in stacks (on a GPU decode is memory-bound and the figure hardly matters);
  // `jouleperf calibrate` fits it (on a CPU whose cache holds the weights, llama.cpp's
  // matrix-vector kernels run at ~60 % of its batched prefill kernels' rate).
  double decode_matmul_efficiency = 1.0;
  // Attention runs as its own kernels, after the weight GEMMs: when set, a step's device
  // time is max(GEMM FLOPs, weight + activation bytes) + max(attention FLOPs, KV bytes),
  // each at the efficiencies above, instead of one roofline over the step's totals (which
  // lets the KV reads of attention hide under the GEMMs' compute). Set for vllm, whose
  // calibration against ML.ENERGY measurements needs it (docs/simulator.md).
  bool attention_roofline_separate = false;

  // Kernels of one forward pass: layers * kernels_per_layer + kernels_fixed.
  double kernels_per_layer = 12;
  double kernels_fixed = 10;
  double kernel_gap_s = 1.5e-6;  // device-side gap per kernel (launch latency, tail), s

  // Host (CPU) time. Eager dispatch costs host_s_per_kernel per kernel and overlaps with
  // the device (asynchronous launches); a captured graph costs graph_launch_s instead.
  double host_s_per_kernel = 0.0;
  double graph_launch_s = 0.0;
  bool decode_graphs = false;    // decode-only steps replay a captured graph
  bool prefill_graphs = false;   // steps with prompt tokens do too
  double graph_max_batch = 256;  // largest captured decode batch (sequences)
  // Serial host work per step that does not overlap the device (scheduling, sampling,
  // the sync that reads the sampled tokens back), s; per sequence in the step, s.
  double host_s_per_step = 0.0;
  double host_s_per_sequence = 0.0;
  double tp_host_s_per_step = 0.0;  // extra per step when tensor-parallel (worker broadcast), s

  // Memory traffic the implementation adds, per layer per token, in passes over a
  // hidden-size (dim) or FFN-width vector of 2-byte activations; logits are fp32.
  double activation_passes_dim = 14;
  double activation_passes_ffn = 4;
  double logit_passes = 2;               // passes over V fp32 logits per logit token
  double kv_cache_copy_passes = 0;       // extra passes over the whole KV cache per step (HF
                                         // DynamicCache grows with torch.cat: read + write = 2)
  bool gqa_expand = false;               // K and V are materialized for every query head before
                                         // attention (HF repeat_kv): +2 * heads/kv_heads passes
  bool attends_allocated_cache = false;  // attention spans the allocated (static) cache length
  bool beams_share_prompt = true;        // beam search keeps one copy of the prompt's KV
  bool beams_prefill_once = true;        // the prompt is prefilled once for all beams
  bool beam_reorder_copy = false;        // beams' caches are reordered (copied) every step

  std::string rationale;    // why these numbers, with sources (docs/simulator.md)
  std::string calibration;  // which figures were fitted, to what, and the leave-one-out error ("" = none)
};

// The named stacks: hf-eager, hf-compiled, vllm (GPUs) and llamacpp-cpu (CPUs).
std::vector<SoftwareStack> builtin_stacks();

// The named stack, case-insensitive. kNotFound listing the names otherwise.
Result<SoftwareStack> find_stack(std::string_view name);

// Checks the figures: efficiencies in (0, 1], non-negative times and counts.
// kInvalidArgument naming the field.
Status validate_stack(const SoftwareStack& s);

}  // namespace jouleperf::sim
