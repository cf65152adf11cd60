#include "jouleperf/engine/openai.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "jouleperf/core/http.hpp"
#include "jouleperf/core/safe_text.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/engine/prompt.hpp"
#include "jouleperf/engine/server_tokenizer.hpp"
#include "jouleperf/engine/sse.hpp"

namespace jouleperf {
namespace {

std::optional<std::uint64_t> count_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) return std::nullopt;
  return it->get<std::uint64_t>();
}

constexpr std::size_t kErrorBodyBytes = 512;

}  // namespace

Result<OpenAiApi> parse_openai_api(std::string_view s) {
  if (s == "completions") return OpenAiApi::kCompletions;
  if (s == "chat") return OpenAiApi::kChat;
  return make_error(Errc::kInvalidArgument, "unknown API '" + std::string(s) + "' (completions, chat)");
}

Result<std::string> load_api_key(const std::string& env_var, const std::string& file) {
  if (!file.empty()) {
    auto text = read_text_file(file);
    if (!text) return text.error();
    std::string key(trim(text->substr(0, text->find('\n'))));
    if (key.empty()) return make_error(Errc::kInvalidArgument, "API key file " + file + " is empty");
    return key;
  }
  if (env_var.empty()) return std::string();
  const char* v = std::getenv(env_var.c_str());
  return std::string(v == nullptr ? "" : v);
}

double default_request_deadline_s(double timeout_s, std::uint64_t input_tokens, std::uint64_t output_tokens) {
  const double tokens = static_cast<double>(input_tokens) + static_cast<double>(output_tokens);
  return std::max(kMinDefaultDeadlineS, timeout_s + tokens / kDeadlineFloorTokensPerS);
}

double OpenAiResult::tpot_s() const {
  if (token_s.size() < 2) return 0.0;
  return (token_s.back() - token_s.front()) / static_cast<double>(token_s.size() - 1);
}

std::vector<double> OpenAiResult::itl_s() const {
  std::vector<double> out;
  for (std::size_t i = 1; i < token_s.size(); ++i) out.push_back(token_s[i] - token_s[i - 1]);
  return out;
}

// One transfer: its easy handle, body, parser and the result being filled.
struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  SseParser parser;
  std::vector<SseEvent> events;
  OpenAiResult result;
  bool keep_text = false;
  bool done_marker = false;  // "data: [DONE]" seen
  bool failed = false;       // result.error set by us (the transfer was aborted)
  bool error_body = false;   // HTTP status >= 400: the body is the error, not a stream
  std::string error_text;
  double last_data_s = 0.0;  // the last data progress (not SSE comments): the silence timeout counts from it
  double deadline_s = 0.0;   // clock seconds by which the request must have ended
  double deadline_len_s = 0.0;
  bool head_sent = false;  // send_s is when the request head was written to the socket
  bool first_called = false;
  std::optional<std::uint64_t> calibrated_tokens;  // text prompts: the server tokenizer's count
  const Clock* clock = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);  // a pooled handle was taken back (easy = nullptr)
    if (headers != nullptr) curl_slist_free_all(headers);
  }
  void fail(std::string why) {
    if (failed) return;
    failed = true;
    result.error = std::move(why);
  }
  // One event's data: a JSON chunk, "[DONE]" or an error object.
  bool on_event(const SseEvent& ev, double now) {
    if (done_marker) return true;  // anything after [DONE] is ignored
    if (ev.data == "[DONE]") {
      done_marker = true;
      return true;
    }
    auto j = nlohmann::json::parse(ev.data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      fail("malformed event data: " + ev.data.substr(0, 120));
      return false;
    }
    if (auto e = j.find("error"); e != j.end()) {
      std::string msg = e->is_object() && e->contains("message") && (*e)["message"].is_string()
                            ? (*e)["message"].get<std::string>()
                            : e->dump();
      fail("server error in stream: " + msg.substr(0, kErrorBodyBytes));
      return false;
    }
    std::string piece;
    bool has_piece = false;
    std::optional<std::string> finish;
    if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty() && (*c)[0].is_object()) {
      const auto& ch = (*c)[0];
      if (auto t = ch.find("text"); t != ch.end() && t->is_string()) {
        piece = t->get<std::string>();
        has_piece = true;
      } else if (auto d = ch.find("delta"); d != ch.end() && d->is_object()) {
        for (const char* k : {"content", "reasoning_content", "reasoning"}) {
          if (auto t2 = d->find(k); t2 != d->end() && t2->is_string()) {
            piece += t2->get<std::string>();
            has_piece = true;
          }
        }
      }
      if (auto f = ch.find("finish_reason"); f != ch.end() && f->is_string()) finish = f->get<std::string>();
    }
    std::optional<std::uint64_t> running;
    if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
      result.usage_prompt_tokens =
          count_field(*u, "prompt_tokens").has_value() ? count_field(*u, "prompt_tokens") : result.usage_prompt_tokens;
      if (auto ct = count_field(*u, "completion_tokens")) {
        result.usage_completion_tokens = ct;
        running = ct;
      }
    }
    if (!running) {
      if (auto t = j.find("timings"); t != j.end()) running = count_field(*t, "predicted_n");
    }
    std::uint64_t target = result.output_tokens;
    if (running) {
      target = std::max(target, *running);
    } else if (has_piece && !piece.empty()) {
      target += 1;
    }
    // A final chunk (finish_reason set) with no running count adds no token unless it has text.
    if (target > result.output_tokens_asked + kOverrunSlackTokens) {
      // A server that ignores max_tokens would stream forever: cut it here.
      fail("overran max_tokens: the stream passed " + std::to_string(target) + " tokens, asked " +
           std::to_string(result.output_tokens_asked));
      return false;
    }
    while (result.output_tokens < target) {
      result.token_s.push_back(now);
      ++result.output_tokens;
    }
    if (keep_text) result.text += piece;
    if (finish) result.finish_reason = *finish;
    return true;
  }
};

struct OpenAiClient::Impl {
  OpenAiConfig cfg;
  std::string endpoint;
  CURLM* multi = nullptr;
  int timer_fd = -1;         // wakes curl_multi_poll with sub-millisecond precision
  std::vector<CURL*> spare;  // easy handles of ended transfers, reset for reuse
  std::vector<std::unique_ptr<Transfer>> live;
  std::unique_ptr<ServerTokenizer> tokenizer;     // PromptMode::kText, opened on first use
  std::map<TextPromptKey, CalibratedText> texts;  // calibrated before the run
  ~Impl() {
    for (auto& t : live) curl_multi_remove_handle(multi, t->easy);
    live.clear();
    for (CURL* e : spare) curl_easy_cleanup(e);
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (timer_fd >= 0) ::close(timer_fd);
  }

  // libcurl calls this with CURLINFO_HEADER_OUT right after it has written the request
  // head to the socket (Curl_buffer_send in lib/http.c): that instant is the send time.
  static int on_debug(CURL*, curl_infotype type, char*, std::size_t, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (type == CURLINFO_HEADER_OUT && !t->head_sent) {
      t->head_sent = true;
      t->result.send_s = t->clock->now().value();
      t->last_data_s = t->result.send_s;
    }
    return 0;
  }

  // Waits up to wait_s for socket activity (or curl's own timers), to the microsecond.
  void wait(double wait_s) {
    itimerspec its{};
    const double w = std::clamp(wait_s, 1e-6, 1.0);
    its.it_value.tv_sec = static_cast<time_t>(w);
    its.it_value.tv_nsec = static_cast<long>((w - std::floor(w)) * 1e9);
    if (timer_fd >= 0 && ::timerfd_settime(timer_fd, 0, &its, nullptr) == 0) {
      curl_waitfd extra{timer_fd, CURL_WAIT_POLLIN, 0};
      curl_multi_poll(multi, &extra, 1, static_cast<int>(std::ceil(w * 1000.0)) + 1, nullptr);
      itimerspec off{};
      ::timerfd_settime(timer_fd, 0, &off, nullptr);
      std::uint64_t expirations = 0;
      [[maybe_unused]] const ssize_t r = ::read(timer_fd, &expirations, sizeof expirations);
    } else {
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(std::ceil(w * 1000.0)), nullptr);
    }
  }

  static std::size_t on_data(char* ptr, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t bytes = size * n;
    const double now = t->clock->now().value();
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->result.http_status = status;
    if (status >= 400 || t->error_body) {
      t->error_body = true;
      t->last_data_s = now;
      if (t->error_text.size() < kErrorBodyBytes)
        t->error_text.append(ptr, std::min(bytes, kErrorBodyBytes - t->error_text.size()));
      return bytes;
    }
    t->events.clear();
    if (auto st = t->parser.feed(std::string_view(ptr, bytes), t->events); !st) {
      t->fail(st.error().message);
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    // Only data counts as progress: keep-alive comments (": ping") leave the stream silent.
    if (!t->events.empty() || t->parser.data_pending()) t->last_data_s = now;
    for (const auto& ev : t->events)
      if (!t->on_event(ev, now)) return 0;
    return bytes;
  }
};

OpenAiClient::OpenAiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OpenAiClient::~OpenAiClient() = default;
const OpenAiConfig& OpenAiClient::config() const { return impl_->cfg; }
std::size_t OpenAiClient::in_flight() const { return impl_->live.size(); }

Result<std::unique_ptr<OpenAiClient>> OpenAiClient::open(OpenAiConfig cfg) {
  if (cfg.url.rfind("http://", 0) != 0 && cfg.url.rfind("https://", 0) != 0)
    return make_error(Errc::kInvalidArgument, "server URL must start with http:// or https://: '" + cfg.url + "'");
  if (!(cfg.timeout_s > 0) || !(cfg.connect_timeout_s > 0) || !std::isfinite(cfg.timeout_s) ||
      !std::isfinite(cfg.connect_timeout_s))
    return make_error(Errc::kInvalidArgument, "timeouts must be > 0 s");
  if (cfg.request_deadline_s && !(*cfg.request_deadline_s > 0 && std::isfinite(*cfg.request_deadline_s)))
    return make_error(Errc::kInvalidArgument, "the request deadline must be > 0 s");
  if (cfg.prompt_token_min < 0 || cfg.prompt_token_max <= cfg.prompt_token_min)
    return make_error(Errc::kInvalidArgument, "prompt token id range is empty");
  if (cfg.prompt_mode == PromptMode::kText && cfg.calibrate_round_trips < 4)
    return make_error(Errc::kInvalidArgument, "text prompts need a calibration budget of >= 4 tokenize calls");
  if (auto st = ensure_curl_global(); !st) return st.error();
  auto impl = std::make_unique<Impl>();
  std::string base = cfg.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0) base.resize(base.size() - 3);
  impl->endpoint = base + (cfg.api == OpenAiApi::kChat ? "/v1/chat/completions" : "/v1/completions");
  impl->cfg = std::move(cfg);
  impl->multi = curl_multi_init();
  if (impl->multi == nullptr) return make_error(Errc::kInternal, "curl_multi_init failed");
  impl->timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);  // -1: whole-ms waits
  curl_multi_setopt(impl->multi, CURLMOPT_MAXCONNECTS, 1024L);
  // A cleartext HTTP/2 connection that cannot carry a second stream must not be offered one.
  if (impl->cfg.http2 && impl->cfg.url.rfind("http://", 0) == 0 && !h2c_connection_reuse_works())
    curl_multi_setopt(impl->multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_NOTHING));
  return std::unique_ptr<OpenAiClient>(new OpenAiClient(std::move(impl)));
}

Status OpenAiClient::submit(const OpenAiRequest& req, const Clock& clock) {
  if (req.output_tokens == 0) return make_error(Errc::kInvalidArgument, "output tokens must be >= 1");
  const auto& cfg = impl_->cfg;
  nlohmann::json body = {{"stream", true},
                         {"max_tokens", req.output_tokens},
                         {"min_tokens", req.output_tokens},
                         {"ignore_eos", true},
                         {"cache_prompt", false},
                         {"timings_per_token", true},
                         {"temperature", 0.0},
                         {"stream_options", {{"include_usage", true}, {"continuous_usage_stats", true}}}};
  if (!cfg.model.empty()) body["model"] = cfg.model;
  const CalibratedText* text = nullptr;
  if (cfg.prompt_mode == PromptMode::kText) {
    text = text_prompt({req.seed, req.tag, req.input_tokens});
    if (text == nullptr)
      return make_error(Errc::kInvalidArgument, "the text prompt of (seed " + std::to_string(req.seed) + ", request " +
                                                    std::to_string(req.tag) + ", " + std::to_string(req.input_tokens) +
                                                    " tokens) was not calibrated before the run");
  }
  if (cfg.api == OpenAiApi::kChat) {
    const std::string& content = text != nullptr ? text->text : req.prompt_text;
    body["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", content}}});
  } else if (text != nullptr) {
    body["prompt"] = text->text;
  } else {
    if (req.prompt_ids.empty()) return make_error(Errc::kInvalidArgument, "empty prompt");
    body["prompt"] = req.prompt_ids;
  }
  auto t = std::make_unique<Transfer>();
  if (text != nullptr) t->calibrated_tokens = text->tokens;
  t->body = body.dump();
  t->clock = &clock;
  t->keep_text = req.keep_text;
  t->result.tag = req.tag;
  t->result.input_tokens_asked = req.input_tokens;
  t->result.output_tokens_asked = req.output_tokens;
  if (!impl_->spare.empty()) {
    t->easy = impl_->spare.back();
    impl_->spare.pop_back();
  } else {
    t->easy = curl_easy_init();
  }
  if (t->easy == nullptr) return make_error(Errc::kInternal, "curl_easy_init failed");
  t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
  t->headers = curl_slist_append(t->headers, "Accept: text/event-stream");
  if (!cfg.api_key.empty())
    t->headers = curl_slist_append(t->headers, ("Authorization: Bearer " + cfg.api_key).c_str());
  CURL* c = t->easy;
  curl_easy_setopt(c, CURLOPT_URL, impl_->endpoint.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, t->body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg.connect_timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(c, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "jouleperf/0.1");
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // for CURLINFO_HEADER_OUT; nothing is printed
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, &Impl::on_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, t.get());
  if (!cfg.http2) {
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  } else if (cfg.url.rfind("https://", 0) == 0) {
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));  // ALPN
  } else {
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
    if (!h2c_connection_reuse_works()) curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  }
  t->result.send_s = clock.now().value();  // replaced once the head is on the socket
  t->last_data_s = t->result.send_s;
  t->deadline_len_s =
      cfg.request_deadline_s.value_or(default_request_deadline_s(cfg.timeout_s, req.input_tokens, req.output_tokens));
  t->deadline_s = t->result.send_s + t->deadline_len_s;
  if (curl_multi_add_handle(impl_->multi, c) != CURLM_OK)
    return make_error(Errc::kInternal, "curl_multi_add_handle failed");
  impl_->live.push_back(std::move(t));
  int running = 0;
  curl_multi_perform(impl_->multi, &running);
  return {};
}

void OpenAiClient::step(double max_wait_s, const Clock& clock, std::vector<OpenAiResult>& done,
                        const std::function<void(std::uint64_t)>& first_token) {
  auto& im = *impl_;
  int running = 0;
  curl_multi_perform(im.multi, &running);
  // Sleep when transfers run, or when none is live (nothing to collect); not when one
  // just ended, so its result is collected at once.
  if (max_wait_s > 0 && (running > 0 || im.live.empty())) {
    im.wait(max_wait_s);
    curl_multi_perform(im.multi, &running);
  }
  const double now = clock.now().value();
  // First-token callbacks and stalls.
  for (auto& t : im.live) {
    if (!t->first_called && !t->result.token_s.empty()) {
      t->first_called = true;
      if (first_token) first_token(t->result.tag);
    }
  }
  std::vector<Transfer*> finished;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(im.multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    const CURLcode rc = msg->data.result;
    if (!t->failed) {
      if (t->error_body) {
        t->fail("HTTP " + std::to_string(t->result.http_status) + ": " + std::string(trim(t->error_text)));
      } else if (rc != CURLE_OK) {
        const std::string detail = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(rc);
        t->fail((rc == CURLE_COULDNT_CONNECT ? "connection refused: " : "transfer failed: ") + detail);
      } else {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        t->result.http_status = status;
        if (status >= 400)
          t->fail("HTTP " + std::to_string(status));
        else if (!t->done_marker && t->result.finish_reason.empty())
          t->fail("stream ended before the end of the answer (no finish_reason, no [DONE])");
        else if (t->parser.mid_event() && !t->done_marker)
          t->fail("stream ended mid-event");
      }
    }
    finished.push_back(t);
  }
  for (auto& t : im.live) {
    if (std::find(finished.begin(), finished.end(), t.get()) != finished.end()) continue;
    if (now - t->last_data_s > im.cfg.timeout_s) {
      t->fail(fmt::format("stalled: no data for {:g} s (keep-alive comments do not count)", im.cfg.timeout_s));
      finished.push_back(t.get());
    } else if (now > t->deadline_s) {
      t->fail(fmt::format("deadline: not ended {:g} s after it was sent ({} of {} tokens received)", t->deadline_len_s,
                          t->result.output_tokens, t->result.output_tokens_asked));
      finished.push_back(t.get());
    }
  }
  for (Transfer* t : finished) {
    curl_multi_remove_handle(im.multi, t->easy);
    curl_easy_reset(t->easy);
    im.spare.push_back(t->easy);  // its connection stays in the multi handle's cache
    t->easy = nullptr;
    auto& r = t->result;
    r.end_s = now;
    r.ok = !t->failed;
    if (t->failed) r.error = r.error.empty() ? "failed" : r.error;
    // Counts against what was asked: reported, never hidden.
    std::string mm;
    if (r.ok && r.output_tokens != r.output_tokens_asked)
      mm += "stream had " + std::to_string(r.output_tokens) + " tokens, asked " +
            std::to_string(r.output_tokens_asked) + "; ";
    if (r.usage_completion_tokens && *r.usage_completion_tokens != r.output_tokens_asked)
      mm += "usage.completion_tokens " + std::to_string(*r.usage_completion_tokens) + ", asked " +
            std::to_string(r.output_tokens_asked) + "; ";
    if (r.usage_prompt_tokens && im.cfg.api == OpenAiApi::kCompletions &&
        *r.usage_prompt_tokens != r.input_tokens_asked)
      mm += "usage.prompt_tokens " + std::to_string(*r.usage_prompt_tokens) + ", asked " +
            std::to_string(r.input_tokens_asked) + "; ";
    if (t->calibrated_tokens && *t->calibrated_tokens != r.input_tokens_asked)
      mm += "text prompt calibrated to " + std::to_string(*t->calibrated_tokens) +
            " tokens by the server's tokenizer, asked " + std::to_string(r.input_tokens_asked) +
            " (unreachable exactly); ";
    if (r.ok && !r.usage_completion_tokens) mm += "no usage block; ";
    if (!mm.empty()) mm.resize(mm.size() - 2);
    r.mismatch = std::move(mm);
    done.push_back(std::move(r));
    auto it = std::find_if(im.live.begin(), im.live.end(), [t](const auto& p) { return p.get() == t; });
    im.live.erase(it);
  }
}

Status OpenAiClient::prepare_text_prompts(std::span<const TextPromptKey> keys) {
  auto& im = *impl_;
  if (im.cfg.prompt_mode != PromptMode::kText) return {};
  for (const auto& key : keys) {
    if (im.texts.count(key) != 0) continue;
    if (!im.tokenizer) {
      ServerTokenizerConfig tc;
      tc.url = im.cfg.url;
      tc.api = im.cfg.tokenize_api;
      tc.model = im.cfg.model;
      tc.api_key = im.cfg.api_key;
      tc.timeout_s = im.cfg.timeout_s;
      auto tok = ServerTokenizer::open(std::move(tc));
      if (!tok) return tok.error();
      im.tokenizer = std::move(*tok);
    }
    ServerTokenizer& tok = *im.tokenizer;
    auto text = calibrate_text(
        key.input_tokens, key.seed, key.index, [&tok](const std::string& s) { return tok.count(s); },
        im.cfg.calibrate_round_trips);
    if (!text) return text.error();
    im.texts.emplace(key, std::move(*text));
  }
  return {};
}

const CalibratedText* OpenAiClient::text_prompt(const TextPromptKey& key) const {
  auto it = impl_->texts.find(key);
  return it == impl_->texts.end() ? nullptr : &it->second;
}

std::uint64_t OpenAiClient::tokenize_requests() const { return impl_->tokenizer ? impl_->tokenizer->requests() : 0; }

OpenAiRequest make_openai_request(const OpenAiConfig& cfg, const BatchRequest& b, std::uint64_t s) {
  OpenAiRequest r;
  r.input_tokens = b.input_tokens;
  r.output_tokens = b.output_tokens;
  r.keep_text = b.keep_text;
  r.tag = s;
  r.seed = b.seed;
  if (cfg.prompt_mode == PromptMode::kText) return r;  // submit() takes the calibrated text of (seed, s, I)
  std::vector<std::int32_t> allowed;
  for (std::int32_t id = cfg.prompt_token_min; id < cfg.prompt_token_max; ++id) allowed.push_back(id);
  r.prompt_ids = random_prompt(allowed, b.input_tokens, b.seed, s);
  if (cfg.api == OpenAiApi::kChat) {
    // Text for chat: one short word per asked token (the server's count is in usage).
    for (std::size_t i = 0; i < r.prompt_ids.size(); ++i)
      r.prompt_text += (i ? " w" : "w") + std::to_string(r.prompt_ids[i]);
    r.prompt_ids.clear();
  }
  return r;
}

bool h2c_connection_reuse_works() {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  return v != nullptr && v->version_num >= 0x080000;
}

std::string http_mode_description(const OpenAiConfig& c) {
  if (!c.http2) return "1.1 (keep-alive)";
  if (c.url.rfind("https://", 0) == 0) return "2 over TLS (ALPN; 1.1 where the server does not offer h2)";
  if (h2c_connection_reuse_works()) return "2 cleartext (prior knowledge; streams multiplexed)";
  return fmt::format(
      "2 cleartext (prior knowledge), one connection per request: libcurl {} breaks a reused h2c connection (curl "
      "issue #10634, fixed in 8.0.0)",
      curl_version_info(CURLVERSION_NOW)->version);
}

OpenAiEngine::OpenAiEngine(std::unique_ptr<OpenAiClient> client) : client_(std::move(client)) {
  const auto& c = client_->config();
  info_.engine = "openai";
  info_.version = c.api == OpenAiApi::kChat ? "chat/completions" : "completions";
  info_.model = c.model.empty() ? "(server default)" : c.model;
  // What the engine reports (run records, console, stores) never carries the URL's
  // credentials; requests use c.url as given.
  info_.model_path = redact_url(c.url);
  info_.settings = {
      {"url", redact_url(c.url)},
      {"api", c.api == OpenAiApi::kChat ? "chat" : "completions"},
      {"timeout_s", std::to_string(c.timeout_s)},
      {"request_deadline_s", c.request_deadline_s ? fmt::format("{:g}", *c.request_deadline_s)
                                                  : std::string("max(60, timeout_s + (I + O) / 1 token/s)")},
      {"http", http_mode_description(c)},
      {"prompt_mode", std::string(prompt_mode_name(c.prompt_mode))}};
  if (c.prompt_mode == PromptMode::kText)
    info_.settings.emplace_back("tokenize_api", std::string(tokenize_api_name(c.tokenize_api)));
}

Result<std::unique_ptr<OpenAiEngine>> OpenAiEngine::open(OpenAiConfig config) {
  auto client = OpenAiClient::open(std::move(config));
  if (!client) return client.error();
  return std::unique_ptr<OpenAiEngine>(new OpenAiEngine(std::move(*client)));
}

Result<BatchResult> OpenAiEngine::run_batch(const BatchRequest& req, const Clock& clock, Meter* meter) {
  last_.clear();
  if (req.batch == 0 || req.input_tokens == 0 || req.output_tokens == 0)
    return make_error(Errc::kInvalidArgument, "batch, input and output tokens must be >= 1");
  if (req.strategy != DecodeStrategy::kGreedy)
    return make_error(Errc::kUnsupported, "the openai engine sends temperature 0 (greedy) only");
  std::vector<OpenAiRequest> reqs;
  for (std::uint64_t s = 0; s < req.batch; ++s) reqs.push_back(make_openai_request(client_->config(), req, s));
  if (client_->config().prompt_mode == PromptMode::kText) {
    // Calibrated (tokenize round trips) before the meter starts; cached for later batches.
    std::vector<TextPromptKey> keys;
    for (std::uint64_t s = 0; s < req.batch; ++s) keys.push_back({req.seed, s, req.input_tokens});
    if (auto st = client_->prepare_text_prompts(keys); !st) return st.error();
  }
  if (meter != nullptr)
    if (auto st = meter->start("prefill"); !st) return st.error();
  BatchResult out;
  out.start_s = clock.now().value();
  for (const auto& r : reqs)
    if (auto st = client_->submit(r, clock); !st) return st.error();
  std::uint64_t firsts = 0;
  bool marked = false;
  auto mark_decode = [&] {
    if (marked) return Status{};
    marked = true;
    out.prefill_end_s = clock.now().value();
    return meter != nullptr ? meter->mark("decode") : Status{};
  };
  std::vector<OpenAiResult> done;
  while (client_->in_flight() > 0) {
    std::size_t before = done.size();
    client_->step(0.05, clock, done, [&](std::uint64_t) { ++firsts; });
    for (std::size_t i = before; i < done.size(); ++i)
      if (done[i].token_s.empty()) ++firsts;  // failed before a token: it no longer holds prefill open
    if (firsts >= req.batch)
      if (auto st = mark_decode(); !st) return st.error();
  }
  if (auto st = mark_decode(); !st) return st.error();
  out.end_s = out.prefill_end_s;
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
  for (const auto& r : done) {
    if (!r.ok) continue;
    SequenceResult seq;
    seq.input_tokens = r.usage_prompt_tokens.value_or(r.input_tokens_asked);
    seq.tokens.assign(r.output_tokens, -1);
    seq.token_s = r.token_s;
    seq.start_s = r.send_s;
    seq.text = r.text;
    out.input_tokens += seq.input_tokens;
    out.output_tokens += seq.tokens.size();
    if (!r.token_s.empty()) out.end_s = std::max(out.end_s, r.token_s.back());
    out.sequences.push_back(std::move(seq));
  }
  // A server's forward calls are not visible; a static batch of O tokens needs O - 1 decode steps.
  out.decode_forwards = req.output_tokens - 1;
  last_ = std::move(done);
  // Failures are failures: a batch with a failed request is not a measurement of B
  // requests (the window holds the failures' stalls and retries), whatever succeeded.
  const auto failures = last_failures();
  if (!failures.empty()) {
    std::string reasons;
    for (const auto& f : failures) reasons += fmt::format("; request {}: {}", f.request, f.reason);
    return make_error(Errc::kNetwork, fmt::format("{} of {} requests failed{}", failures.size(), req.batch, reasons));
  }
  return out;
}

std::vector<RequestFailure> OpenAiEngine::last_failures() const {
  std::vector<RequestFailure> out;
  for (const auto& r : last_)
    if (!r.ok) out.push_back({r.tag, r.error.empty() ? std::string("failed") : r.error});
  return out;
}

}  // namespace jouleperf
