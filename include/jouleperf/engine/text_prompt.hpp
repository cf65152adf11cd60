// Synthetic text prompts of an exact token count, for servers that take text: words
// drawn from a seed, calibrated against the server's own tokenizer. The calibration is a
// pure function of a token-counting callback (the server's /tokenize, or a fake in tests)
// and does a bounded number of round trips: it grows or shrinks the text by whole words,
// then by single-token pieces, then by single characters, until the count is exactly the
// target. Where a word-piece boundary makes the target unreachable it returns the nearest
// count it saw, and says so (CalibratedText::exact() is false): never hidden.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// How the openai engine builds prompts.
enum class PromptMode {
  kIds,   // arrays of token ids (vLLM, SGLang and llama-server accept them): exact by construction
  kText,  // synthetic text calibrated to the exact count through the server's tokenize endpoint
};

// "ids", "text"; kInvalidArgument otherwise.
Result<PromptMode> parse_prompt_mode(std::string_view s);
std::string_view prompt_mode_name(PromptMode m);

// Request/response shape of the server's tokenize endpoint (always POST <base>/tokenize).
enum class TokenizeApi {
  kAuto,   // llama-server's shape, then vLLM's, then TGI's; the first that answers is kept
  kLlama,  // {"content", "add_special": true, "parse_special": true} -> {"tokens": [...]}
  kVllm,   // {"model", "prompt", "add_special_tokens": true} -> {"count", "tokens", "max_model_len"} (also SGLang)
  kTgi,    // {"inputs"} -> [{"id", "text", "start", "stop"}, ...]
};

// "auto", "llama", "vllm", "tgi"; kInvalidArgument otherwise.
Result<TokenizeApi> parse_tokenize_api(std::string_view s);
std::string_view tokenize_api_name(TokenizeApi a);

// The number of tokens the server will see for `text` as a completion prompt (special
// tokens such as BOS included). Its errors are passed on by calibrate_text.
using TokenCounter = std::function<Result<std::uint64_t>(const std::string& text)>;

struct CalibratedText {
  std::string text;
  std::uint64_t target = 0;       // tokens asked
  std::uint64_t tokens = 0;       // the counter's count for `text` (== target when exact)
  std::uint32_t round_trips = 0;  // counter calls made
  bool exact() const { return tokens == target; }
};

// `words` space-separated words drawn from the stream (seed, index); the text for n
// words is a prefix of the text for n + 1. Pure; no I/O.
std::string synthetic_words(std::uint64_t words, std::uint64_t seed, std::uint64_t index);

// Text of exactly `target` tokens by `count`, from the words of (seed, index), in at most
// max_round_trips calls of `count` (>= 4). Fails with kInvalidArgument for target 0 or a
// budget under 4, and with the counter's own error when a call fails. When the target is
// unreachable (or the budget ran out) it returns the nearest count seen, exact() false.
Result<CalibratedText> calibrate_text(std::uint64_t target, std::uint64_t seed, std::uint64_t index,
                                      const TokenCounter& count, std::uint32_t max_round_trips = 48);

}  // namespace jouleperf
