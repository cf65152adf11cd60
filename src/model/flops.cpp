#include "jouleperf/model/flops.hpp"

#include <fmt/format.h>

namespace jouleperf {

Result<LogitsMode> parse_logits_mode(std::string_view s) {
  if (s == "last") return LogitsMode::kLast;
  if (s == "all") return LogitsMode::kAll;
  return make_error(Errc::kInvalidArgument, fmt::format("logits mode '{}': expected 'last' or 'all'", s));
}

std::string_view logits_mode_name(LogitsMode m) { return m == LogitsMode::kAll ? "all" : "last"; }

RequestFlops request_flops(const ModelInfo& info, std::uint64_t input_tokens, std::uint64_t output_tokens,
                           LogitsMode logits) {
  const ModelArch& a = info.arch;
  const double per_token_matmul = 2.0 * static_cast<double>(info.params_active);
  const double per_token_logits = 2.0 * static_cast<double>(a.vocab) * static_cast<double>(a.dim);
  // One query attending to one key: q.k (2 * head_dim) and the weighted sum of v
  // (2 * head_dim), for every query head of every layer.
  const double per_pair =
      4.0 * static_cast<double>(a.layers) * static_cast<double>(a.heads) * static_cast<double>(a.head_dim);
  const double in = static_cast<double>(input_tokens);

  RequestFlops f;
  f.input_tokens = input_tokens;
  f.output_tokens = output_tokens;
  // Prefill: prompt token at position p (0-based) attends to p + 1 keys.
  f.prefill.matmul = per_token_matmul * in;
  f.prefill.attention = per_pair * in * (in + 1.0) / 2.0;
  const double prefill_logit_tokens = logits == LogitsMode::kAll ? in : (input_tokens > 0 ? 1.0 : 0.0);
  f.prefill.logits = per_token_logits * prefill_logit_tokens;
  // Decode: the first output token comes from prefill's logits; each later one needs a
  // forward over the previous output token, at positions I .. I + O - 2, attending to
  // I + 1 .. I + O - 1 keys.
  f.decode_forwards = output_tokens > 0 ? output_tokens - 1 : 0;
  const double n = static_cast<double>(f.decode_forwards);
  f.decode.matmul = per_token_matmul * n;
  f.decode.attention = per_pair * (n * in + n * (n + 1.0) / 2.0);
  f.decode.logits = per_token_logits * n;
  return f;
}

}  // namespace jouleperf
