#include "jouleperf/core/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

namespace jouleperf {

Status ensure_curl_global() {
  // See the header for why there is no matching curl_global_cleanup().
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK)
    return make_error(Errc::kInternal, std::string("curl_global_init failed: ") + curl_easy_strerror(result));
  return {};
}

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The first line of an untrusted body, printable and short, for an error message.
std::string body_excerpt(std::string_view body) {
  constexpr std::size_t kMax = 120;
  std::string out;
  for (char ch : body) {
    if (ch == '\n' || ch == '\r' || out.size() >= kMax) break;
    const auto c = static_cast<unsigned char>(ch);
    out += (c >= 0x20 && c < 0x7f) ? ch : '?';
  }
  if (out.size() >= kMax) out += "...";
  return out;
}

long to_ms(double s) { return static_cast<long>(std::max(1.0, std::ceil(s * 1000.0))); }

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

struct HttpClient::Impl {
  std::string url;
  HttpOptions opts;
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  // Write-callback state for the request in flight.
  std::string* sink = nullptr;
  bool overflow = false;

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  static size_t on_data(char* ptr, size_t size, size_t nmemb, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * nmemb;
    if (self->sink->size() + n > self->opts.max_body_bytes) {
      self->overflow = true;
      return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    self->sink->append(ptr, n);
    return n;
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

const std::string& HttpClient::url() const { return impl_->url; }

Result<std::unique_ptr<HttpClient>> HttpClient::open(std::string url, HttpOptions opts) {
  if (url.empty()) return make_error(Errc::kInvalidArgument, "empty URL");
  if (!starts_with_nocase(url, "http://") && !starts_with_nocase(url, "https://"))
    return make_error(Errc::kInvalidArgument, "URL '" + url + "' is not http:// or https://");
  if (!(opts.timeout_s > 0) || !std::isfinite(opts.timeout_s))
    return make_error(Errc::kInvalidArgument, "HTTP timeout must be a positive number of seconds");
  if (opts.connect_timeout_s < 0 || !std::isfinite(opts.connect_timeout_s))
    return make_error(Errc::kInvalidArgument, "HTTP connect timeout must be >= 0 seconds");
  if (auto st = ensure_curl_global(); !st) return st.error();

  auto impl = std::make_unique<Impl>();
  impl->url = std::move(url);
  impl->opts = std::move(opts);
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return make_error(Errc::kInternal, "curl_easy_init failed");
  for (const auto& h : impl->opts.headers) {
    curl_slist* next = curl_slist_append(impl->headers, h.c_str());
    if (next == nullptr) return make_error(Errc::kInternal, "curl_slist_append failed");
    impl->headers = next;
  }

  CURL* c = impl->curl;
  const HttpOptions& o = impl->opts;
  const double connect_s = o.connect_timeout_s > 0 ? std::min(o.connect_timeout_s, o.timeout_s) : o.timeout_s;
  bool ok = true;
  const auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
  set(curl_easy_setopt(c, CURLOPT_URL, impl->url.c_str()));
  set(curl_easy_setopt(c, CURLOPT_HTTPGET, 1L));
  set(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));  // timeouts without SIGALRM: safe with threads
  set(curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to_ms(o.timeout_s)));
  set(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, to_ms(connect_s)));
  set(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl->errbuf));
  set(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::on_data));
  set(curl_easy_setopt(c, CURLOPT_WRITEDATA, impl.get()));
  set(curl_easy_setopt(c, CURLOPT_USERAGENT, "jouleperf/0.1"));
  set(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o.follow_redirects ? 1L : 0L));
  set(curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L));
#if LIBCURL_VERSION_NUM >= 0x075500
  set(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
#else
  set(curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS)));
  set(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS)));
#endif
  if (!o.use_env_proxy) set(curl_easy_setopt(c, CURLOPT_PROXY, ""));               // "" disables env proxies
  if (o.accept_compressed) set(curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""));  // all built-in decoders
  if (impl->headers != nullptr) set(curl_easy_setopt(c, CURLOPT_HTTPHEADER, impl->headers));
  if (!ok) return make_error(Errc::kInternal, "libcurl rejected an option for " + impl->url);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpResponse> HttpClient::get() {
  HttpResponse r;
  if (auto st = get(r); !st) return st.error();
  return r;
}

Status HttpClient::get(HttpResponse& out) {
  Impl& im = *impl_;
  out.status = 0;
  out.body.clear();
  out.content_type.clear();
  out.elapsed_s = 0.0;
  im.sink = &out.body;
  im.overflow = false;
  im.errbuf[0] = '\0';
  const CURLcode rc = curl_easy_perform(im.curl);
  im.sink = nullptr;

  const std::string what = "GET " + im.url;
  if (rc != CURLE_OK) {
    std::string detail = curl_easy_strerror(rc);
    std::string extra = im.errbuf;
    while (!extra.empty() && (extra.back() == '\n' || extra.back() == '\r')) extra.pop_back();
    if (!extra.empty() && extra != detail) detail += " (" + extra + ")";
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return make_error(Errc::kTimeout, what + ": no answer within the timeout of " +
                                              seconds_text(im.opts.timeout_s) + " s: " + detail);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL: return make_error(Errc::kInvalidArgument, what + ": " + detail);
      case CURLE_WRITE_ERROR:
        if (im.overflow)
          return make_error(Errc::kNetwork,
                            what + ": response larger than " + std::to_string(im.opts.max_body_bytes) + " bytes");
        return make_error(Errc::kNetwork, what + ": " + detail);
      case CURLE_OUT_OF_MEMORY:
      case CURLE_FAILED_INIT: return make_error(Errc::kInternal, what + ": " + detail);
      default: return make_error(Errc::kNetwork, what + ": " + detail);
    }
  }

  long status = 0;
  curl_easy_getinfo(im.curl, CURLINFO_RESPONSE_CODE, &status);
  out.status = status;
  char* ct = nullptr;
  if (curl_easy_getinfo(im.curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != nullptr) out.content_type = ct;
  curl_off_t total_us = 0;
  if (curl_easy_getinfo(im.curl, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
    out.elapsed_s = static_cast<double>(total_us) / 1e6;

  if (status >= 400) {
    std::string msg = what + ": HTTP " + std::to_string(status);
    const std::string ex = body_excerpt(out.body);
    if (!ex.empty()) msg += ": " + ex;
    return make_error(Errc::kNetwork, msg);
  }
  if (status >= 300 && status < 400) {
    char* loc = nullptr;
    std::string target = "(no Location)";
    if (curl_easy_getinfo(im.curl, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != nullptr) target = loc;
    return make_error(Errc::kNetwork, what + ": HTTP " + std::to_string(status) + " redirect to " + target +
                                          " (redirects are not followed; give the final URL)");
  }
  return {};
}

}  // namespace jouleperf
