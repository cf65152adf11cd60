// The flags of the openai engine shared by `run` and `replay` (server URL, API, timeouts,
// API key, HTTP/2, prompt mode and tokenize endpoint), each mirrored by a JOULEPERF_*
// variable, and the OpenAiConfig they make.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/openai.hpp"

namespace jouleperf::cli {

struct OpenAiFlags {
  std::string url;
  std::string api = "completions";
  double timeout_s = 60.0;
  std::optional<double> request_deadline_s;  // unset: default_request_deadline_s per request
  std::string api_key_env = "OPENAI_API_KEY";
  std::string api_key_file;
  bool http2 = false;
  std::int32_t token_min = 10;
  std::int32_t token_max = 200;
  std::string prompt_mode = "ids";
  std::string tokenize_api = "auto";
};

// Adds --url, --api, --timeout, --request-deadline, --api-key-env, --api-key-file, --http2,
// --prompt-token-min, --prompt-token-max, --prompt-mode and --tokenize-api to `cmd`.
void add_openai_flags(CLI::App* cmd, OpenAiFlags& flags);

// The config the flags describe (its `model` is left empty: --model belongs to each
// command). Reads the API key (file or environment). Fails with kInvalidArgument for an
// unknown --api, --prompt-mode or --tokenize-api, a --request-deadline not > 0, or an empty key file, and with the file
// error (kNotFound, kPermissionDenied, kIo) for an unreadable key file. No network I/O.
Result<OpenAiConfig> openai_config(const OpenAiFlags& flags);

}  // namespace jouleperf::cli
