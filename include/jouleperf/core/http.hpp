// A small blocking HTTP GET client over libcurl's easy interface, one object per
// endpoint. The handle is reused between requests, so the TCP connection stays open
// (HTTP/1.1 keep-alive) and a scrape costs one request, not a connect. Not
// thread-safe: one client per thread (the Sampler serializes a sensor's reads).
//
// Process-wide state: libcurl needs curl_global_init() once per process before any
// handle exists. ensure_curl_global() (called by HttpClient::open and by every other
// user of libcurl: the openai engine, the server tokenizer) does it exactly once through a function-local
// static std::once_flag (thread-safe in C++11 and later) and never calls
// curl_global_cleanup(): the OS reclaims it at exit, and cleaning up while another
// thread may still hold a handle would be undefined behaviour. No other global state.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// libcurl's process-wide initialization, done once per process (thread-safe); later calls
// return the first call's outcome. kInternal when curl_global_init failed.
Status ensure_curl_global();

struct HttpOptions {
  double timeout_s = 2.0;                  // whole request (connect + transfer), s; must be > 0
  double connect_timeout_s = 0.0;          // connect phase only, s; 0 = same as timeout_s
  bool follow_redirects = false;           // false: a 3xx answer is an error naming the Location
  std::size_t max_body_bytes = 64u << 20;  // larger responses fail (protects against runaway bodies)
  bool use_env_proxy = false;              // false: ignore http_proxy/HTTPS_PROXY/... (exporters are
                                           // scraped directly; a proxy would add latency and skew)
  bool accept_compressed = true;           // send Accept-Encoding for what libcurl can decode (gzip...)
  std::vector<std::string> headers;        // extra request headers, "Name: value"
};

struct HttpResponse {
  long status = 0;           // HTTP status code (200...)
  std::string body;          // decoded body
  std::string content_type;  // Content-Type header, "" when absent
  double elapsed_s = 0.0;    // total time of the request as libcurl measured it, s
};

class HttpClient {
 public:
  // Prepares a client for `url` (http:// or https://); does no I/O. Fails with
  // kInvalidArgument for an empty URL, another scheme or bad options, kInternal when
  // libcurl cannot initialize.
  static Result<std::unique_ptr<HttpClient>> open(std::string url, HttpOptions opts = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET the URL. Errors (the message names the URL): connection refused, unreachable
  // host, reset or empty reply -> kNetwork with libcurl's message; no answer within
  // timeout_s -> kTimeout; HTTP status >= 400 -> kNetwork with the status and the start
  // of the body; a redirect when follow_redirects is off -> kNetwork naming the target;
  // a body over max_body_bytes -> kNetwork; a malformed URL -> kInvalidArgument.
  Result<HttpResponse> get();
  // Same, filling `out` in place so its body buffer's capacity is reused between calls.
  Status get(HttpResponse& out);

  const std::string& url() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jouleperf
