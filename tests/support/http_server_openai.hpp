// A fake OpenAI-compatible streaming server on HttpServer (raw mode) for engine tests:
// POST /v1/completions and /v1/chat/completions answer with server-sent events, one
// chunk per token, a final chunk with finish_reason and usage, then "data: [DONE]".
// A chooser picks how each request misbehaves, so tests can mix good and bad answers.
// The endless faults (kEndless, kPingOnly, kSlowDrip) stop when the client goes away or
// the server stops.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "support/http_server.hpp"

namespace jouleperf::testing {

enum class FakeFault {
  kNone,             // a correct stream of max_tokens tokens
  kHttp500,          // HTTP 500 with a JSON error body
  kStall,            // two tokens, then silence until released or the server stops
  kMalformed,        // two tokens, then a "data:" line that is not JSON
  kCloseMidStream,   // two tokens, then the connection is closed (no end chunk)
  kResetMidStream,   // two tokens, then TCP RST
  kShortAnswer,      // max_tokens - 1 tokens, usage says so (a server that stopped early)
  kUsageOnlyCounts,  // text empty on every chunk, running counts in usage (vLLM continuous usage)
  kEndless,          // tokens past max_tokens, forever: never a finish_reason or [DONE]
  kPingOnly,         // HTTP 200, then only ": ping" SSE comments (keep-alives), never a data event
  kSlowDrip,         // max_tokens tokens, one every drip_interval_ms: never silent, but slow
};

struct FakeOpenAiOptions {
  // Fault for the request with 1-based server-wide index `index` and its parsed body.
  std::function<FakeFault(std::uint64_t index)> fault = [](std::uint64_t) { return FakeFault::kNone; };
  std::atomic<bool>* release = nullptr;  // kStall waits until *release (or server stop)
  // kPingOnly: a comment every this many ms; kSlowDrip: a token every this many ms.
  int drip_interval_ms = 20;
};

class FakeOpenAiServer {
 public:
  explicit FakeOpenAiServer(FakeOpenAiOptions opts);
  std::string base_url() const { return server_.url(""); }
  HttpServer& server() { return server_; }
  // Bodies of the requests received, in arrival order (thread-safe copy).
  std::vector<std::string> bodies() const;
  // Authorization headers of the requests received, in arrival order ("" when absent).
  std::vector<std::string> authorizations() const;

 private:
  FakeOpenAiOptions opts_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> authorizations_;
  HttpServer server_;  // last: destroyed first, so handlers never outlive the members
};

}  // namespace jouleperf::testing
