#include "support/http_server_openai.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace jouleperf::testing {
namespace {

std::string chunk_json(bool chat, const std::string& text, const nlohmann::json& finish, const nlohmann::json* usage) {
  nlohmann::json choice = {{"index", 0}, {"finish_reason", finish}};
  if (chat)
    choice["delta"] = {{"content", text}};
  else
    choice["text"] = text;
  nlohmann::json j = {{"object", chat ? "chat.completion.chunk" : "text_completion"},
                      {"choices", nlohmann::json::array({choice})}};
  if (usage != nullptr) j["usage"] = *usage;
  std::string out = "data: ";
  out += j.dump();
  out += "\n\n";
  return out;
}

}  // namespace

FakeOpenAiServer::FakeOpenAiServer(FakeOpenAiOptions opts)
    : opts_(std::move(opts)), server_(HttpServer::Raw{}, [this](const HttpRequest& req, HttpConnection& conn) {
        {
          std::lock_guard lock(mu_);
          bodies_.push_back(req.body);
          authorizations_.push_back(req.header("Authorization").value_or(""));
        }
        const FakeFault fault = opts_.fault(req.index);
        auto body = nlohmann::json::parse(req.body, nullptr, false);
        const bool chat = req.path() == "/v1/chat/completions";
        if (fault == FakeFault::kHttp500 || body.is_discarded() || !body.contains("max_tokens")) {
          const std::string err = R"({"error":{"message":"boom","type":"server_error"}})";
          conn.send_head(500, {{"Content-Type", "application/json"}, {"Content-Length", std::to_string(err.size())}});
          conn.send(err);
          return;
        }
        const auto max_tokens = body["max_tokens"].get<std::uint64_t>();
        const std::uint64_t prompt = body.contains("prompt") && body["prompt"].is_array() ? body["prompt"].size() : 7;
        conn.send_head(200, {{"Content-Type", "text/event-stream"}, {"Transfer-Encoding", "chunked"}});
        const auto pause = std::chrono::milliseconds(opts_.drip_interval_ms);
        if (fault == FakeFault::kEndless) {
          // Tokens with running usage counts, far past max_tokens, until the client leaves.
          for (std::uint64_t i = 0; !conn.stopping(); ++i) {
            nlohmann::json u = {
                {"prompt_tokens", prompt}, {"completion_tokens", i + 1}, {"total_tokens", prompt + i + 1}};
            std::string text = "t";
            text += std::to_string(i);
            if (!conn.send_chunk(chunk_json(chat, text, nullptr, &u))) return;
            if (i % 64 == 63) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          return;
        }
        if (fault == FakeFault::kPingOnly) {
          while (!conn.stopping() && conn.send_chunk(": ping\n\n")) std::this_thread::sleep_for(pause);
          return;
        }
        const bool broken = fault == FakeFault::kStall || fault == FakeFault::kMalformed ||
                            fault == FakeFault::kCloseMidStream || fault == FakeFault::kResetMidStream;
        const std::uint64_t n = broken                             ? std::min<std::uint64_t>(2, max_tokens)
                                : fault == FakeFault::kShortAnswer ? max_tokens - 1
                                                                   : max_tokens;
        for (std::uint64_t i = 0; i < n; ++i) {
          if (fault == FakeFault::kUsageOnlyCounts) {
            nlohmann::json u = {
                {"prompt_tokens", prompt}, {"completion_tokens", i + 1}, {"total_tokens", prompt + i + 1}};
            conn.send_chunk(chunk_json(chat, "", nullptr, &u));
          } else {
            if (fault == FakeFault::kSlowDrip && i > 0) {
              if (conn.stopping()) return;
              std::this_thread::sleep_for(pause);
            }
            std::string text = "t";
            text += std::to_string(i);
            if (!conn.send_chunk(chunk_json(chat, text, nullptr, nullptr)) && fault == FakeFault::kSlowDrip) return;
          }
        }
        switch (fault) {
          case FakeFault::kStall:
            while (!conn.stopping() && !(opts_.release != nullptr && opts_.release->load()))
              std::this_thread::sleep_for(std::chrono::milliseconds(2));
            return;
          case FakeFault::kMalformed:
            conn.send_chunk("data: {\"choices\": [ this is not json\n\n");
            conn.send_chunk("");
            return;
          case FakeFault::kCloseMidStream: conn.close_after(); return;
          case FakeFault::kResetMidStream: conn.reset(); return;
          default: break;
        }
        nlohmann::json usage = {{"prompt_tokens", prompt}, {"completion_tokens", n}, {"total_tokens", prompt + n}};
        conn.send_chunk(chunk_json(chat, "", "length", &usage));
        conn.send_chunk("data: [DONE]\n\n");
        conn.send_chunk("");
      }) {}

std::vector<std::string> FakeOpenAiServer::bodies() const {
  std::lock_guard lock(mu_);
  return bodies_;
}

std::vector<std::string> FakeOpenAiServer::authorizations() const {
  std::lock_guard lock(mu_);
  return authorizations_;
}

}  // namespace jouleperf::testing
