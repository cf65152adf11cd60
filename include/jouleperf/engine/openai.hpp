// The `openai` engine: drives any OpenAI-compatible server (vLLM, SGLang, TGI,
// llama-server, Ollama) over HTTP with streamed completions, many requests in flight
// from one thread through libcurl's multi interface (keep-alive connections reused).
//
// Exact lengths: on /v1/completions the prompt is an array of token ids (vLLM and
// llama-server accept it) or, with PromptMode::kText, synthetic text calibrated to the
// exact count through the server's tokenize endpoint before the run (text_prompt.hpp;
// prepare_text_prompts), `max_tokens` = O with `ignore_eos: true` and `min_tokens` =
// O, and `cache_prompt: false` so llama-server does not serve a repeated prompt from its
// cache. Tokens are counted from the stream (per chunk: the running count from
// `usage.completion_tokens` or llama-server's `timings.predicted_n` when the chunk has
// one, else one per chunk with text) and checked against `usage` and what was asked; a
// mismatch is reported in the result, never hidden.
//
// Faults (connection refused, HTTP 4xx/5xx, a stream with no data event for longer than
// timeout_s — SSE comments such as ": ping" keep-alives do not count —, a request not
// ended within its total deadline, a stream that runs more than kOverrunSlackTokens past
// max_tokens, a server that closes mid-stream, a malformed event) fail that request with
// a reason; the others go on. The API key is sent as a Bearer header and kept nowhere else.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/engine/text_prompt.hpp"

namespace jouleperf {

enum class OpenAiApi {
  kCompletions,  // POST /v1/completions, prompt as token ids
  kChat,         // POST /v1/chat/completions, prompt as text (input length from usage)
};

// "completions", "chat"; kInvalidArgument otherwise.
Result<OpenAiApi> parse_openai_api(std::string_view s);

// Tokens a stream may run past the asked max_tokens before it is cut ("overran
// max_tokens"): a server that ignores max_tokens would otherwise stream forever.
inline constexpr std::uint64_t kOverrunSlackTokens = 4;

// The slowest a request is expected to be served when no deadline is given: one token
// (prompt or generated) per second, on top of the silence timeout.
inline constexpr double kDeadlineFloorTokensPerS = 1.0;
inline constexpr double kMinDefaultDeadlineS = 60.0;

// The default total deadline of a request of I prompt and O generated tokens, s:
//   max(60 s, timeout_s + (I + O) / 1 token/s).
// Generous on purpose: it only bounds a hang (a server that drips tokens forever, never
// silent for timeout_s), it is not a latency objective.
double default_request_deadline_s(double timeout_s, std::uint64_t input_tokens, std::uint64_t output_tokens);

struct OpenAiConfig {
  std::string url;  // server base, "http://127.0.0.1:8080" (a trailing "/v1" is accepted)
  OpenAiApi api = OpenAiApi::kCompletions;
  std::string model;        // the "model" field; "" omits it (llama-server serves its one model)
  std::string api_key;      // "" = none; sent as "Authorization: Bearer", never printed or stored
  double timeout_s = 60.0;  // a request with no data event for this long fails (stall), s
  // A request not ended this long after it was sent fails ("deadline"), s; unset: the
  // default of default_request_deadline_s for its lengths.
  std::optional<double> request_deadline_s;
  double connect_timeout_s = 10.0;      // s
  std::int32_t prompt_token_min = 10;   // prompt ids are drawn from [min, max): ids every vocabulary has
  std::int32_t prompt_token_max = 200;  //
  bool http2 = false;  // HTTP/2: prior knowledge (h2c) on http://, ALPN on https://; default HTTP/1.1 keep-alive
  PromptMode prompt_mode = PromptMode::kIds;      // kText: calibrated text through the server's /tokenize
  TokenizeApi tokenize_api = TokenizeApi::kAuto;  // kText: the tokenize endpoint's shape
  std::uint32_t calibrate_round_trips = 48;       // kText: most tokenize calls per prompt (>= 4)
};

// Reads an API key: the file's first line when `file` is set, else the environment
// variable `env_var`; "" when neither is set. Fails with kNotFound / kPermissionDenied /
// kIo for an unreadable file and kInvalidArgument for an empty one.
Result<std::string> load_api_key(const std::string& env_var, const std::string& file);

struct OpenAiRequest {
  std::uint64_t input_tokens = 1;        // I (the length of prompt_ids on kCompletions)
  std::uint64_t output_tokens = 1;       // O: max_tokens, min_tokens, ignore_eos
  std::vector<std::int32_t> prompt_ids;  // kCompletions
  std::string prompt_text;               // kChat
  bool keep_text = false;
  std::uint64_t tag = 0;   // the caller's number for it, returned in the result
  std::uint64_t seed = 0;  // PromptMode::kText: the prompt is the calibrated text of (seed, tag, input_tokens)
};

// A text prompt to calibrate: the words of (seed, index), input_tokens long.
struct TextPromptKey {
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  std::uint64_t input_tokens = 1;
  auto operator<=>(const TextPromptKey&) const = default;
};

// One request's outcome; times are seconds on the caller's clock.
struct OpenAiResult {
  std::uint64_t tag = 0;
  bool ok = false;
  std::string error;  // why it failed ("" when ok): "HTTP 500: ...", "stalled: ...", ...
  long http_status = 0;
  std::uint64_t input_tokens_asked = 0;
  std::uint64_t output_tokens_asked = 0;
  std::uint64_t output_tokens = 0;                       // counted from the stream
  std::optional<std::uint64_t> usage_prompt_tokens;      // as the server reported
  std::optional<std::uint64_t> usage_completion_tokens;  //
  std::string mismatch;  // "" when every count agrees with what was asked; else what differs
  std::string finish_reason;
  double send_s = 0.0;          // the request was handed to the transport
  std::vector<double> token_s;  // arrival of each counted token (several may share a chunk)
  double end_s = 0.0;           // the stream ended (or the failure was seen)
  std::string text;             // with keep_text
  double ttft_s() const { return token_s.empty() ? 0.0 : token_s.front() - send_s; }
  double e2e_s() const { return end_s - send_s; }
  // Time per output token after the first: (last - first) / (n - 1); 0 with n < 2.
  double tpot_s() const;
  // Inter-token latencies: token_s[i] - token_s[i-1].
  std::vector<double> itl_s() const;
};

// Many streamed requests in flight on one thread. Not thread-safe.
class OpenAiClient {
 public:
  // Checks the config (URL scheme, timeouts and deadline > 0, id range); does no I/O. kInvalidArgument.
  static Result<std::unique_ptr<OpenAiClient>> open(OpenAiConfig config);
  ~OpenAiClient();
  OpenAiClient(const OpenAiClient&) = delete;
  OpenAiClient& operator=(const OpenAiClient&) = delete;

  // Starts a request now: its send_s is clock.now(). Fails (kInvalidArgument, kInternal)
  // only when it cannot be started at all; network faults show up in its result.
  Status submit(const OpenAiRequest& request, const Clock& clock);
  // Drives every transfer, waiting at most max_wait_s for activity, and appends the
  // requests that ended (well or not) to `done`. `first_token` (optional) is called with
  // each request's tag when its first token arrives.
  void step(double max_wait_s, const Clock& clock, std::vector<OpenAiResult>& done,
            const std::function<void(std::uint64_t)>& first_token = {});
  std::size_t in_flight() const;
  const OpenAiConfig& config() const;

  // PromptMode::kText: calibrates the text prompt of every key through the server's
  // tokenize endpoint now (blocking HTTP; call before the timed run) and keeps it for
  // submit(). Keys already calibrated cost nothing. Fails with the tokenizer's errors
  // (kUnsupported: the server has no usable tokenize endpoint; kNetwork, kTimeout). A
  // count the server's tokenizer cannot reach exactly is kept at the nearest count and
  // reported in each result's `mismatch`. A no-op with PromptMode::kIds.
  Status prepare_text_prompts(std::span<const TextPromptKey> keys);
  // The calibrated prompt of `key`, or nullptr when it was not prepared.
  const CalibratedText* text_prompt(const TextPromptKey& key) const;
  // Tokenize requests made so far (none are made by submit() or step()).
  std::uint64_t tokenize_requests() const;

 private:
  struct Impl;
  explicit OpenAiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether this process's libcurl can send a second stream over a cleartext HTTP/2 (prior
// knowledge) connection. libcurl before 8.0.0 (Debian 12 ships 7.88.1) fails such a
// stream with "Error in the HTTP2 framing layer" (curl issue #10634); the client then
// opens one connection per request and never multiplexes h2c.
bool h2c_connection_reuse_works();

// How the client speaks HTTP for `c`, for engine info and results:
// "1.1 (keep-alive)", "2 cleartext (prior knowledge; streams multiplexed)", ...
std::string http_mode_description(const OpenAiConfig& c);

// The Engine over an OpenAiClient: run_batch sends B requests at once and waits for all.
// BatchResult::sequences holds the requests (their `tokens` are -1 per counted token: the
// stream carries text, not ids); last_results() has every request, failures included.
// A batch with ANY failed request is a failed batch: run_batch fails (kNetwork, the
// message counts the failures and gives each reason) and last_failures() lists them, so
// no caller can charge the batch's energy to the requests that happened to succeed.
class OpenAiEngine final : public Engine {
 public:
  static Result<std::unique_ptr<OpenAiEngine>> open(OpenAiConfig config);
  const EngineInfo& info() const override { return info_; }
  Result<BatchResult> run_batch(const BatchRequest& request, const Clock& clock, Meter* meter) override;
  const std::vector<OpenAiResult>& last_results() const { return last_; }
  std::vector<RequestFailure> last_failures() const override;
  // Serves `requests` open-loop (engine/loadgen.hpp): each is sent at its arrival time
  // whatever the server does, at most options.max_batch in flight (a request waiting for
  // a slot is admitted when sent: admitted_s = send, first_token_s = its first streamed
  // token). The server batches them its own way, so only BatchingMode::kContinuous is
  // taken (kUnsupported for kStatic) and greedy only; `forwards`, `mean_batch` and
  // `busy_s` are not visible from a client (0), `peak_batch` counts requests in flight.
  // Starts `meter` (phase "replay") at the schedule's origin and leaves it running.
  // Fails like validate_serve, with the client's setup errors, or, when any request
  // failed, with their count and reasons (last_results()/last_failures() name them).
  Result<ServeResult> serve(const std::vector<ServeRequest>& requests, const ServeOptions& options, const Clock& clock,
                            Meter* meter) override;
  OpenAiClient& client() { return *client_; }

 private:
  explicit OpenAiEngine(std::unique_ptr<OpenAiClient> client);
  std::unique_ptr<OpenAiClient> client_;
  EngineInfo info_;
  std::vector<OpenAiResult> last_;
};

// The request for sequence `s` of a batch: prompt ids drawn from seed and s (PromptMode::kIds),
// or, with PromptMode::kText, a reference (seed, s, I) to the text prepare_text_prompts made.
OpenAiRequest make_openai_request(const OpenAiConfig& config, const BatchRequest& batch, std::uint64_t s);

}  // namespace jouleperf
