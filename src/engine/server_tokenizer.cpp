#include "jouleperf/engine/server_tokenizer.hpp"

#include <curl/curl.h>

#include <array>
#include <mutex>
#include <nlohmann/json.hpp>

#include "jouleperf/core/http.hpp"
#include "jouleperf/core/text.hpp"

namespace jouleperf {
namespace {

constexpr std::size_t kMaxBody = 64u << 20;
constexpr std::size_t kErrorExcerpt = 200;
constexpr const char* kProbeText = "hello world";
constexpr const char* kHint = "; use --prompt-mode ids (token-id prompts) instead";

std::size_t on_body(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxBody) return 0;
  body->append(ptr, size * n);
  return size * n;
}

std::string request_body(TokenizeApi api, const std::string& text, const std::string& model) {
  nlohmann::json j;
  switch (api) {
    case TokenizeApi::kLlama:
      // The completion endpoint tokenizes a text prompt with add_special and parse_special on.
      j = {{"content", text}, {"add_special", true}, {"parse_special", true}};
      break;
    case TokenizeApi::kVllm:
      j = {{"prompt", text}, {"add_special_tokens", true}};
      if (!model.empty()) j["model"] = model;
      break;
    case TokenizeApi::kTgi:
    case TokenizeApi::kAuto: j = {{"inputs", text}}; break;
  }
  return j.dump();
}

// The token count in a 200 answer of the given shape; kInvalidArgument when it is not that shape.
Result<std::uint64_t> parse_count(TokenizeApi api, const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  const std::string start = body.substr(0, kErrorExcerpt);
  if (j.is_discarded()) return make_error(Errc::kInvalidArgument, "answer is not JSON: " + start);
  if (api == TokenizeApi::kTgi) {
    if (!j.is_array()) return make_error(Errc::kInvalidArgument, "answer is not a list of tokens: " + start);
    return static_cast<std::uint64_t>(j.size());
  }
  if (!j.is_object()) return make_error(Errc::kInvalidArgument, "answer is not a JSON object: " + start);
  if (api == TokenizeApi::kVllm) {
    if (auto c = j.find("count"); c != j.end() && c->is_number_integer() && c->get<std::int64_t>() >= 0)
      return c->get<std::uint64_t>();
  }
  if (auto t = j.find("tokens"); t != j.end() && t->is_array()) return static_cast<std::uint64_t>(t->size());
  return make_error(Errc::kInvalidArgument, "answer has no 'tokens' list: " + start);
}

}  // namespace

struct ServerTokenizer::Impl {
  ServerTokenizerConfig cfg;
  std::string endpoint;
  TokenizeApi api = TokenizeApi::kAuto;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::uint64_t requests = 0;
  ~Impl() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  // One POST. Transport failures: kTimeout or kNetwork (message names the endpoint);
  // an HTTP status >= 400 is returned in `status` with the start of the body.
  Result<std::pair<long, std::string>> post(const std::string& body) {
    std::string answer;
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(easy, CURLOPT_URL, endpoint.c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.timeout_s * 1000));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "jouleperf/0.1");
    ++requests;
    const CURLcode rc = curl_easy_perform(easy);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    if (rc != CURLE_OK) {
      const std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
      return make_error(rc == CURLE_OPERATION_TIMEDOUT ? Errc::kTimeout : Errc::kNetwork,
                        "tokenize endpoint " + endpoint + ": " + detail);
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return std::make_pair(status, std::move(answer));
  }

  // The count by one shape: kUnsupported for an HTTP error answer, kInvalidArgument for
  // a 200 of another shape, transport errors as post() gives them.
  Result<std::uint64_t> try_shape(TokenizeApi shape, const std::string& text) {
    auto r = post(request_body(shape, text, cfg.model));
    if (!r) return r.error();
    if (r->first >= 400)
      return make_error(Errc::kUnsupported, "HTTP " + std::to_string(r->first) + ": " +
                                                std::string(trim(r->second.substr(0, kErrorExcerpt))));
    return parse_count(shape, r->second);
  }

  // kAuto: the first shape that counts the probe text as > 0 tokens.
  Status resolve() {
    std::string tried;
    for (TokenizeApi shape : {TokenizeApi::kLlama, TokenizeApi::kVllm, TokenizeApi::kTgi}) {
      auto c = try_shape(shape, kProbeText);
      if (!c && (c.error().code == Errc::kNetwork || c.error().code == Errc::kTimeout)) return c.error();
      if (c && *c > 0) {
        api = shape;
        return {};
      }
      tried += std::string(tried.empty() ? "" : "; ") + std::string(tokenize_api_name(shape)) +
               " shape: " + (c ? std::string("counted no tokens in '") + kProbeText + "'" : c.error().message);
    }
    return make_error(Errc::kUnsupported, "the server has no tokenize endpoint jouleperf understands: POST " +
                                              endpoint + " gave " + tried + kHint);
  }
};

ServerTokenizer::ServerTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerTokenizer::~ServerTokenizer() = default;
TokenizeApi ServerTokenizer::api() const { return impl_->api; }
std::uint64_t ServerTokenizer::requests() const { return impl_->requests; }
const std::string& ServerTokenizer::endpoint() const { return impl_->endpoint; }

Result<std::unique_ptr<ServerTokenizer>> ServerTokenizer::open(ServerTokenizerConfig cfg) {
  if (cfg.url.rfind("http://", 0) != 0 && cfg.url.rfind("https://", 0) != 0)
    return make_error(Errc::kInvalidArgument, "server URL must start with http:// or https://: '" + cfg.url + "'");
  if (!(cfg.timeout_s > 0)) return make_error(Errc::kInvalidArgument, "tokenize timeout must be > 0 s");
  if (auto st = ensure_curl_global(); !st) return st.error();
  auto impl = std::make_unique<Impl>();
  std::string base = cfg.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0) base.resize(base.size() - 3);
  impl->endpoint = base + "/tokenize";
  impl->api = cfg.api;
  impl->easy = curl_easy_init();
  if (impl->easy == nullptr) return make_error(Errc::kInternal, "curl_easy_init failed");
  impl->headers = curl_slist_append(impl->headers, "Content-Type: application/json");
  if (!cfg.api_key.empty())
    impl->headers = curl_slist_append(impl->headers, ("Authorization: Bearer " + cfg.api_key).c_str());
  impl->cfg = std::move(cfg);
  return std::unique_ptr<ServerTokenizer>(new ServerTokenizer(std::move(impl)));
}

Result<std::uint64_t> ServerTokenizer::count(const std::string& text) {
  auto& im = *impl_;
  if (im.api == TokenizeApi::kAuto)
    if (auto st = im.resolve(); !st) return st.error();
  auto c = im.try_shape(im.api, text);
  if (!c && c.error().code == Errc::kUnsupported && c.error().message.rfind("HTTP 404", 0) == 0)
    return make_error(Errc::kUnsupported, "the server has no tokenize endpoint: POST " + im.endpoint + " (" +
                                              std::string(tokenize_api_name(im.api)) + " shape) gave " +
                                              c.error().message + kHint);
  if (!c)
    return make_error(c.error().code, "POST " + im.endpoint + " (" + std::string(tokenize_api_name(im.api)) +
                                          " shape): " + c.error().message);
  return c;
}

}  // namespace jouleperf
