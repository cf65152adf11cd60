// What one engine step of a model costs in FLOPs and bytes, per token, per (query, key)
// pair and per weight read. The per-token FLOP coefficients are taken from the model
// part's request_flops (docs/method.md), so the simulator and the FLOPs baseline count
// the same FLOPs; the bytes add what a step reads and writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf::sim {

// How the weights are stored. Compute runs at the matching tensor rate where the device
// has one (fp8: W8A8 FP8; int8: W8A8 INT8, SmoothQuant-style); int4 is weight-only
// (4-bit weights with an fp16 scale per 32, dequantized to bf16 for the matmul); fp32
// runs at the vector FP32 rate (CPU inference of an f32 GGUF).
enum class WeightPrecision { kBf16, kFp8, kInt8, kInt4, kFp32 };

// "bf16" (or "fp16", "f16"), "fp8", "int8" (or "q8_0"), "int4" (or "q4_0"), "fp32" (or
// "f32"): GGUF weight type names are accepted; kInvalidArgument otherwise.
Result<WeightPrecision> parse_weight_precision(std::string_view s);
std::string_view weight_precision_name(WeightPrecision p);
// Bytes per stored weight: 2, 1, 1, 0.5625 (4.5 bits: Q4_0 layout), 4.
double bytes_per_weight(WeightPrecision p);

struct ModelCosts {
  std::string name;
  // FLOPs (from request_flops).
  double matmul_flops_per_token = 0;  // 2 * params_active: the weight matrices, per token
  double attn_flops_per_pair = 0;     // 4 * L * h * d_h, per (query, key) pair
  double logits_flops_per_token = 0;  // 2 * V * d, per token whose output head is computed
  // Weights, in parameters (bytes = parameters * bytes_per_weight).
  double dense_params = 0;   // non-embedding parameters every token reads (all but routed experts)
  double expert_params = 0;  // one routed expert's FFN in one layer; 0 for a dense model
  double head_params = 0;    // V * d: the output head, read in full when any logits are computed
  double total_params = 0;   // every weight (memory footprint)
  // Shape.
  double layers = 0, dim = 0, vocab = 0, heads = 0, kv_heads = 0;
  double ffn_active = 0;  // FFN width one token goes through (experts_used * ffn for a MoE)
  double experts = 0, experts_used = 0;
  double kv_bytes_per_token = 0;  // K and V of every layer, f16 cache, bytes
};

// Costs of a model whose facts are `info` (a built-in architecture or a GGUF file).
// kInvalidArgument when the architecture is not valid (validate_arch) or its parameter
// counts are inconsistent (active > non-embedding).
Result<ModelCosts> model_costs(const ModelInfo& info);

// Expected number of distinct routed experts (per layer) that `tokens` tokens touch when
// each picks `used` of `experts` uniformly: E * (1 - (1 - k/E)^N). 0 tokens touch none.
double experts_touched(double experts, double used, double tokens);

}  // namespace jouleperf::sim
