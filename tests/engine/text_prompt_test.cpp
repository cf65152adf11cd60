// Calibrated text prompts: the calibration loop against fake tokenizers (reachable,
// unreachable, failing), and the clear error of a server without a tokenize endpoint.
#include "jouleperf/engine/text_prompt.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/server_tokenizer.hpp"
#include "support/http_server.hpp"
#include "support/http_server_openai.hpp"

namespace jouleperf {
namespace {

// A word-piece-like tokenizer: `special` tokens (BOS...) plus, per run of non-space
// characters, one token per `piece` characters (rounded up). Counts its calls.
struct FakeTokenizer {
  std::uint64_t special = 1;
  std::uint64_t piece = 4;
  std::uint64_t per_run = 0;  // > 0: every run costs exactly this many tokens instead
  int calls = 0;
  Result<std::uint64_t> operator()(const std::string& text) {
    ++calls;
    std::uint64_t n = special, run = 0;
    auto flush = [&] {
      if (run > 0) n += per_run > 0 ? per_run : (run + piece - 1) / piece;
      run = 0;
    };
    for (char c : text) {
      if (c == ' ') {
        flush();
      } else {
        ++run;
      }
    }
    flush();
    return n;
  }
};

TEST(TextPrompt, ParsesModesAndApis) {
  EXPECT_EQ(*parse_prompt_mode("ids"), PromptMode::kIds);
  EXPECT_EQ(*parse_prompt_mode("text"), PromptMode::kText);
  EXPECT_EQ(parse_prompt_mode("words").error().code, Errc::kInvalidArgument);
  for (auto a : {TokenizeApi::kAuto, TokenizeApi::kLlama, TokenizeApi::kVllm, TokenizeApi::kTgi})
    EXPECT_EQ(*parse_tokenize_api(tokenize_api_name(a)), a);
  EXPECT_EQ(parse_tokenize_api("sglang").error().code, Errc::kInvalidArgument);
}

TEST(TextPrompt, WordsAreReproduciblePrefixesAndDifferPerRequest) {
  const std::string ten = synthetic_words(10, 3, 0);
  EXPECT_EQ(ten, synthetic_words(10, 3, 0));
  EXPECT_EQ(synthetic_words(11, 3, 0).rfind(ten, 0), 0u);
  EXPECT_NE(ten, synthetic_words(10, 3, 1));
  EXPECT_NE(ten, synthetic_words(10, 4, 0));
  EXPECT_EQ(synthetic_words(0, 3, 0), "");
}

TEST(TextPrompt, CalibratesToExactCountsWithFewRoundTrips) {
  for (std::uint64_t special : {0u, 1u}) {
    for (std::uint64_t target : {1u, 2u, 7u, 64u, 300u, 2000u}) {
      if (target < special) continue;
      FakeTokenizer tok;
      tok.special = special;
      auto r = calibrate_text(target, 1, target, std::ref(tok));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      EXPECT_TRUE(r->exact()) << "target " << target << " got " << r->tokens;
      EXPECT_EQ(r->target, target);
      EXPECT_EQ(r->tokens, target);
      FakeTokenizer check;
      check.special = special;
      EXPECT_EQ(*check(r->text), target) << r->text;
      EXPECT_EQ(r->round_trips, static_cast<std::uint32_t>(tok.calls));
      EXPECT_LE(tok.calls, 48);
    }
  }
}

TEST(TextPrompt, UnreachableCountGivesTheNearestAndSaysSo) {
  // Every word costs two tokens: with one special token only odd counts exist.
  FakeTokenizer tok;
  tok.per_run = 2;
  auto r = calibrate_text(8, 1, 0, std::ref(tok), 20);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->exact());
  EXPECT_EQ(r->target, 8u);
  EXPECT_TRUE(r->tokens == 7u || r->tokens == 9u) << r->tokens;
  EXPECT_LE(tok.calls, 20);
  // A target below what the server adds on its own (two special tokens) is unreachable too.
  FakeTokenizer two;
  two.special = 2;
  auto low = calibrate_text(1, 1, 0, std::ref(two));
  ASSERT_TRUE(low.ok());
  EXPECT_FALSE(low->exact());
  EXPECT_EQ(low->tokens, 2u);
  EXPECT_EQ(low->text, "");
}

TEST(TextPrompt, CounterErrorsAndBadArgumentsAreErrors) {
  int calls = 0;
  auto failing = [&calls](const std::string&) -> Result<std::uint64_t> {
    if (++calls > 2) return make_error(Errc::kNetwork, "connection refused");
    return std::uint64_t{1};
  };
  auto r = calibrate_text(50, 1, 0, failing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  FakeTokenizer tok;
  EXPECT_EQ(calibrate_text(0, 1, 0, std::ref(tok)).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(calibrate_text(5, 1, 0, std::ref(tok), 3).error().code, Errc::kInvalidArgument);
}

OpenAiConfig text_config(const std::string& url) {
  OpenAiConfig c;
  c.url = url;
  c.timeout_s = 30;  // bounds a hang only
  c.prompt_mode = PromptMode::kText;
  return c;
}

BatchRequest one(std::uint64_t i, std::uint64_t o) {
  BatchRequest b;
  b.input_tokens = i;
  b.output_tokens = o;
  return b;
}

TEST(TextPrompt, ServerWithoutTokenizeGivesAClearError) {
  // A minimal server that knows no /tokenize (404 on everything).
  testing::HttpServer bare([](const testing::HttpRequest&) {
    testing::HttpReply r;
    r.status = 404;
    r.body = "Not Found";
    return r;
  });
  auto e = OpenAiEngine::open(text_config(bare.url("")));
  ASSERT_TRUE(e.ok());
  SteadyClock clock;
  auto r = (*e)->run_batch(one(16, 4), clock, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find(bare.url("/tokenize")), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 404"), std::string::npos) << m;
  EXPECT_NE(m.find("llama shape"), std::string::npos) << m;
  EXPECT_NE(m.find("vllm shape"), std::string::npos) << m;
  EXPECT_NE(m.find("--prompt-mode ids"), std::string::npos) << m;
  // One named shape: the same clear error.
  auto c = text_config(bare.url(""));
  c.tokenize_api = TokenizeApi::kVllm;
  auto e2 = OpenAiEngine::open(c);
  ASSERT_TRUE(e2.ok());
  auto r2 = (*e2)->run_batch(one(16, 4), clock, nullptr);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, Errc::kUnsupported);
  EXPECT_NE(r2.error().message.find("no tokenize endpoint"), std::string::npos) << r2.error().message;
  EXPECT_NE(r2.error().message.find("--prompt-mode ids"), std::string::npos);

  // The misbehaving fake (HTTP 500 to anything but a completion): unsupported, not a zero.
  testing::FakeOpenAiServer fake(testing::FakeOpenAiOptions{});
  auto e3 = OpenAiEngine::open(text_config(fake.base_url()));
  ASSERT_TRUE(e3.ok());
  auto r3 = (*e3)->run_batch(one(16, 4), clock, nullptr);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, Errc::kUnsupported);
  EXPECT_NE(r3.error().message.find("HTTP 500"), std::string::npos) << r3.error().message;
  EXPECT_TRUE(fake.bodies().size() >= 2u);
  for (const auto& b : fake.bodies()) EXPECT_EQ(b.find("max_tokens"), std::string::npos) << "a completion was sent";
}

TEST(TextPrompt, RefusedConnectionIsANetworkError) {
  auto tok = ServerTokenizer::open(
      {"http://127.0.0.1:" + std::to_string(testing::HttpServer::closed_port()), TokenizeApi::kAuto, "", "", 2.0});
  ASSERT_TRUE(tok.ok());
  auto c = (*tok)->count("hello");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::kNetwork);
  EXPECT_EQ(ServerTokenizer::open({"ftp://x", TokenizeApi::kAuto, "", "", 2.0}).error().code, Errc::kInvalidArgument);
}

TEST(TextPrompt, TokenizeShapesAreParsedAsEachServerAnswers) {
  // One fake per shape: llama-server's {"tokens"}, vLLM's {"count"}, TGI's bare list.
  std::vector<std::string> seen;
  std::mutex mu;
  testing::HttpServer server([&](const testing::HttpRequest& req) {
    testing::HttpReply r;
    r.content_type = "application/json";
    auto j = nlohmann::json::parse(req.body);
    std::lock_guard lock(mu);
    seen.push_back(req.path() + " " + req.body);
    if (j.contains("content")) {
      r.status = 400;  // pretend to be vLLM/TGI: the llama shape is refused
      r.body = R"({"error":"missing prompt"})";
    } else if (j.contains("prompt")) {
      r.body = nlohmann::json{{"count", 5}, {"tokens", {1, 2, 3, 4, 5}}, {"max_model_len", 4096}}.dump();
    } else {
      r.body = R"([{"id":1,"text":"a","start":0,"stop":1},{"id":2,"text":"b","start":1,"stop":2}])";
    }
    return r;
  });
  auto vllm = ServerTokenizer::open({server.url("/v1"), TokenizeApi::kAuto, "m", "", 2.0});
  ASSERT_TRUE(vllm.ok());
  EXPECT_EQ(*(*vllm)->count("x"), 5u);
  EXPECT_EQ((*vllm)->api(), TokenizeApi::kVllm);
  auto tgi = ServerTokenizer::open({server.url(""), TokenizeApi::kTgi, "", "", 2.0});
  ASSERT_TRUE(tgi.ok());
  EXPECT_EQ(*(*tgi)->count("x"), 2u);
  std::lock_guard lock(mu);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0].rfind("/tokenize ", 0), 0u);  // "/v1" dropped from the base
  EXPECT_NE(seen[0].find("\"add_special\":true"), std::string::npos);
  EXPECT_NE(seen[1].find("\"add_special_tokens\":true"), std::string::npos);
  EXPECT_NE(seen[1].find("\"model\":\"m\""), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
