#include "jouleperf/sim/model_costs.hpp"

#include <fmt/format.h>

#include <cmath>

#include "jouleperf/model/flops.hpp"

namespace jouleperf::sim {

Result<WeightPrecision> parse_weight_precision(std::string_view s) {
  if (s == "bf16" || s == "fp16" || s == "f16") return WeightPrecision::kBf16;
  if (s == "fp8") return WeightPrecision::kFp8;
  if (s == "int8" || s == "q8_0") return WeightPrecision::kInt8;
  if (s == "int4" || s == "q4_0") return WeightPrecision::kInt4;
  if (s == "fp32" || s == "f32") return WeightPrecision::kFp32;
  return make_error(Errc::kInvalidArgument,
                    fmt::format("weight precision '{}': expected bf16, fp16, fp8, int8, int4 or fp32", s));
}

std::string_view weight_precision_name(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::kBf16: return "bf16";
    case WeightPrecision::kFp8: return "fp8";
    case WeightPrecision::kInt8: return "int8";
    case WeightPrecision::kInt4: return "int4";
    case WeightPrecision::kFp32: return "fp32";
  }
  return "bf16";
}

double bytes_per_weight(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::kBf16: return 2.0;
    case WeightPrecision::kFp8: return 1.0;
    case WeightPrecision::kInt8: return 1.0;
    case WeightPrecision::kInt4: return 0.5625;
    case WeightPrecision::kFp32: return 4.0;
  }
  return 2.0;
}

Result<ModelCosts> model_costs(const ModelInfo& info) {
  const ModelArch& a = info.arch;
  if (auto st = validate_arch(a); !st) return st.error();
  if (info.params_active > info.params_non_embedding || info.params_non_embedding > info.params_total)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("model '{}': inconsistent parameter counts (active {} > non-embedding {} or "
                                  "non-embedding > total {})",
                                  a.name, info.params_active, info.params_non_embedding, info.params_total));
  // One prompt token with one output token: prefill is exactly one token's matmuls, one
  // (query, key) pair and one token's logits. Taking the coefficients from request_flops
  // keeps one definition of the FLOPs (docs/method.md).
  const RequestFlops one = request_flops(info, 1, 1, LogitsMode::kLast);
  ModelCosts c;
  c.name = a.name;
  c.matmul_flops_per_token = one.prefill.matmul;
  c.attn_flops_per_pair = one.prefill.attention;
  c.logits_flops_per_token = one.prefill.logits;
  c.layers = static_cast<double>(a.layers);
  c.dim = static_cast<double>(a.dim);
  c.vocab = static_cast<double>(a.vocab);
  c.heads = static_cast<double>(a.heads);
  c.kv_heads = static_cast<double>(a.kv_heads);
  c.experts = static_cast<double>(a.experts);
  c.experts_used = static_cast<double>(a.experts_used);
  c.kv_bytes_per_token = static_cast<double>(info.kv_bytes_per_token);
  c.total_params = static_cast<double>(info.params_total);
  c.head_params = c.vocab * c.dim;
  const double active = static_cast<double>(info.params_active);
  if (a.experts > a.experts_used) {
    // The parameters a token skips are the experts it does not use: L * (E - k) experts.
    const double skipped = static_cast<double>(info.params_non_embedding - info.params_active);
    c.expert_params = skipped / (c.layers * (c.experts - c.experts_used));
    c.dense_params = active - c.layers * c.experts_used * c.expert_params;
    c.ffn_active = c.experts_used * static_cast<double>(a.ffn);
  } else {
    c.expert_params = 0.0;
    c.dense_params = active;
    c.ffn_active = static_cast<double>(a.ffn) * (a.experts > 0 ? c.experts_used : 1.0);
  }
  return c;
}

double experts_touched(double experts, double used, double tokens) {
  if (experts <= 0.0 || tokens <= 0.0) return 0.0;
  if (used >= experts) return experts;
  return experts * (1.0 - std::pow(1.0 - used / experts, tokens));
}

}  // namespace jouleperf::sim
