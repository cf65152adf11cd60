// FLOPs of one request: prefill of I prompt tokens, then decode to O generated tokens.
// The formula is written out in docs/method.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf {

enum class LogitsMode {
  kLast,  // prefill computes the output head for the last prompt token only (llama.cpp, vLLM)
  kAll,   // for every prompt token (eager stacks, e.g. HF Transformers' forward)
};

// "last" / "all"; fails with kInvalidArgument otherwise.
Result<LogitsMode> parse_logits_mode(std::string_view s);
std::string_view logits_mode_name(LogitsMode m);

// FLOPs of one phase, split by where they go.
struct PhaseFlops {
  double matmul = 0.0;     // 2 * active non-embedding parameters per token
  double attention = 0.0;  // 4 * layers * heads * head_dim per (query, key) pair
  double logits = 0.0;     // 2 * vocab * dim per token whose logits are computed
  double total() const { return matmul + attention + logits; }
};

struct RequestFlops {
  std::uint64_t input_tokens = 0;     // I
  std::uint64_t output_tokens = 0;    // O
  std::uint64_t decode_forwards = 0;  // O - 1: the first output token comes from prefill
  PhaseFlops prefill;                 // forward over the I prompt tokens
  PhaseFlops decode;                  // the O - 1 single-token forwards after it
  double total() const { return prefill.total() + decode.total(); }
};

// FLOPs of one request of I prompt tokens and O generated tokens (O >= 1 or 0 for
// prefill only), causal attention over the KV cache (only unmasked pairs counted).
RequestFlops request_flops(const ModelInfo& info, std::uint64_t input_tokens, std::uint64_t output_tokens,
                           LogitsMode logits = LogitsMode::kLast);

}  // namespace jouleperf
