#include "openai_flags.hpp"

#include <cmath>

namespace jouleperf::cli {

void add_openai_flags(CLI::App* cmd, OpenAiFlags& f) {
  cmd->add_option("--url", f.url, "openai: server base URL, e.g. http://127.0.0.1:8080")->envname("JOULEPERF_URL");
  cmd->add_option("--api", f.api, "openai: completions (token-id or calibrated text prompts) or chat")
      ->capture_default_str();
  cmd->add_option("--timeout", f.timeout_s,
                  "openai: a request with no data event for this long fails, s (keep-alive comments do not count)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--request-deadline", f.request_deadline_s,
                  "openai: a request not ended this long after it was sent fails, s (default: max(60, timeout + "
                  "(I + O) / 1 token/s), only to bound a hang)")
      ->envname("JOULEPERF_REQUEST_DEADLINE")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--api-key-env", f.api_key_env, "openai: environment variable holding the API key")
      ->capture_default_str();
  cmd->add_option("--api-key-file", f.api_key_file, "openai: file whose first line is the API key");
  cmd->add_flag("--http2", f.http2, "openai: HTTP/2 (prior knowledge on http://)");
  cmd->add_option("--prompt-token-min", f.token_min, "openai: smallest prompt token id")->capture_default_str();
  cmd->add_option("--prompt-token-max", f.token_max, "openai: prompt token ids are below this")->capture_default_str();
  cmd->add_option("--prompt-mode", f.prompt_mode,
                  "openai: ids (token-id prompts) or text (synthetic text calibrated to exactly I tokens through "
                  "the server's /tokenize before the run)")
      ->capture_default_str();
  cmd->add_option("--tokenize-api", f.tokenize_api,
                  "openai, --prompt-mode text: the /tokenize shape: llama (llama-server), vllm (vLLM, SGLang), tgi, "
                  "or auto (llama, then vllm, then tgi)")
      ->capture_default_str();
}

Result<OpenAiConfig> openai_config(const OpenAiFlags& f) {
  auto api = parse_openai_api(f.api);
  if (!api) return api.error();
  auto mode = parse_prompt_mode(f.prompt_mode);
  if (!mode) return mode.error();
  auto tapi = parse_tokenize_api(f.tokenize_api);
  if (!tapi) return tapi.error();
  auto key = load_api_key(f.api_key_env, f.api_key_file);
  if (!key) return make_error(key.error().code, "API key: " + key.error().message);
  OpenAiConfig oc;
  oc.url = f.url;
  oc.api = *api;
  oc.api_key = std::move(*key);
  oc.timeout_s = f.timeout_s;
  if (f.request_deadline_s && !(*f.request_deadline_s > 0 && std::isfinite(*f.request_deadline_s)))
    return make_error(Errc::kInvalidArgument, "--request-deadline must be a number > 0 s");
  oc.request_deadline_s = f.request_deadline_s;
  oc.http2 = f.http2;
  oc.prompt_token_min = f.token_min;
  oc.prompt_token_max = f.token_max;
  oc.prompt_mode = *mode;
  oc.tokenize_api = *tapi;
  return oc;
}

}  // namespace jouleperf::cli
