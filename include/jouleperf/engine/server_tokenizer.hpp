// A server's tokenize endpoint (POST <base>/tokenize) as a TokenCounter: blocking, one
// keep-alive connection, for calibrating text prompts before a run (never during one).
// Shapes: llama-server, vLLM (and SGLang, which copies it) and TGI; see text_prompt.hpp.
// The count is what the server will see in a completion: special tokens (BOS) included,
// as its completion endpoint adds them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/text_prompt.hpp"

namespace jouleperf {

struct ServerTokenizerConfig {
  std::string url;                       // server base, "http://127.0.0.1:8080" (a trailing "/v1" is dropped)
  TokenizeApi api = TokenizeApi::kAuto;  // kAuto: probes llama, vllm, tgi in that order on first use
  std::string model;                     // vLLM's "model" field; "" omits it
  std::string api_key;                   // "" = none; sent as "Authorization: Bearer", never stored elsewhere
  double timeout_s = 30.0;               // whole request, s; > 0
};

class ServerTokenizer {
 public:
  // Checks the config (http:// or https://, timeout > 0); no I/O. kInvalidArgument, kInternal.
  static Result<std::unique_ptr<ServerTokenizer>> open(ServerTokenizerConfig config);
  ~ServerTokenizer();
  ServerTokenizer(const ServerTokenizer&) = delete;
  ServerTokenizer& operator=(const ServerTokenizer&) = delete;

  // Tokens of `text` as a completion prompt. With kAuto the first call probes the shapes
  // and keeps the first that answers. Fails with kUnsupported when no shape works (the
  // message names the URL, what each attempt returned and suggests --prompt-mode ids),
  // kNetwork when the server cannot be reached or answers 4xx/5xx to a known shape,
  // kTimeout, and kInvalidArgument for an answer of the wrong shape.
  Result<std::uint64_t> count(const std::string& text);
  // The shape in use (kAuto until the first successful call).
  TokenizeApi api() const;
  std::uint64_t requests() const;  // HTTP requests made so far
  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit ServerTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jouleperf
