#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "jouleperf/engine/openai.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "support/http_server_openai.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

// The default no-data timeout only bounds a hang: the fake server answers at once.
std::unique_ptr<OpenAiEngine> engine_for(const std::string& url, double timeout_s = 30.0,
                                         OpenAiApi api = OpenAiApi::kCompletions) {
  OpenAiConfig c;
  c.url = url;
  c.timeout_s = timeout_s;
  c.api = api;
  auto e = OpenAiEngine::open(c);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return std::move(*e);
}

BatchRequest batch(std::uint64_t b, std::uint64_t i, std::uint64_t o) {
  BatchRequest r;
  r.batch = b;
  r.input_tokens = i;
  r.output_tokens = o;
  return r;
}

TEST(OpenAi, BatchGetsExactLengthsAndTimestamps) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto e = engine_for(server.base_url() + "/v1");
  SteadyClock clock;
  auto r = e->run_batch(batch(4, 12, 9), clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->sequences.size(), 4u);
  EXPECT_EQ(r->output_tokens, 36u);
  EXPECT_EQ(r->input_tokens, 48u);
  for (const auto& res : e->last_results()) {
    EXPECT_TRUE(res.ok) << res.error;
    EXPECT_EQ(res.output_tokens, 9u);
    ASSERT_EQ(res.token_s.size(), 9u);
    EXPECT_EQ(res.mismatch, "");
    EXPECT_EQ(res.usage_completion_tokens, 9u);
    EXPECT_GT(res.ttft_s(), 0.0);
    EXPECT_LE(res.ttft_s(), res.e2e_s());
    EXPECT_EQ(res.itl_s().size(), 8u);
    EXPECT_GE(res.tpot_s(), 0.0);
  }
  EXPECT_LE(r->start_s, r->prefill_end_s);
  EXPECT_LE(r->prefill_end_s, r->end_s);
  // What was sent: token-id prompt of length I, exact-length knobs.
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 4u);
  for (const auto& b : bodies) {
    auto j = nlohmann::json::parse(b);
    EXPECT_EQ(j["prompt"].size(), 12u);
    EXPECT_EQ(j["max_tokens"], 9);
    EXPECT_EQ(j["min_tokens"], 9);
    EXPECT_EQ(j["ignore_eos"], true);
    EXPECT_EQ(j["cache_prompt"], false);
    EXPECT_EQ(j["stream"], true);
  }
  // Keep-alive: a second batch reuses the connections (at most one per request in flight;
  // a request that ends before the last is sent may already lend its connection).
  ASSERT_TRUE(e->run_batch(batch(4, 12, 9), clock, nullptr).ok());
  EXPECT_LE(server.server().connections(), 4u);
  EXPECT_EQ(server.server().requests(), 8u);
}

TEST(OpenAi, MarksPrefillAndDecodeOnTheMeter) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto e = engine_for(server.base_url());
  SteadyClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  SensorInfo info{"fake", "fake:0", "constant 40 W", {}};
  sensors.push_back(std::make_unique<FakePowerSensor>(info, PowerProfile().point(Seconds(0), Watts(40)), clock));
  Sampler sampler(std::move(sensors), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(true).ok());
  Meter meter(sampler);
  auto r = e->run_batch(batch(3, 8, 20), clock, &meter);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  auto m = meter.stop();
  sampler.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_EQ(m->phases.size(), 2u);
  EXPECT_EQ(m->phases[0].name, "prefill");
  EXPECT_EQ(m->phases[1].name, "decode");
  EXPECT_LE(m->phases[0].start_s, r->start_s);
  // Order, not distance: the decode mark follows the engine's prefill end (same clock)
  // and every request's first token came before it.
  EXPECT_LE(r->prefill_end_s, m->phases[0].end_s);
  EXPECT_DOUBLE_EQ(m->phases[0].end_s, m->phases[1].start_s);
  double last_first = 0;
  for (const auto& q : e->last_results()) last_first = std::max(last_first, q.token_s.front());
  EXPECT_LE(last_first, r->prefill_end_s);
  EXPECT_LE(r->end_s, m->phases[1].end_s);
}

TEST(OpenAi, FaultsFailTheirRequestOnlyWithReasons) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t i) {
    switch (i % 5) {
      case 1: return FakeFault::kNone;
      case 2: return FakeFault::kHttp500;
      case 3: return FakeFault::kMalformed;
      case 4: return FakeFault::kCloseMidStream;
      default: return FakeFault::kResetMidStream;
    }
  };
  FakeOpenAiServer server(o);
  auto e = engine_for(server.base_url());
  SteadyClock clock;
  auto r = e->run_batch(batch(5, 4, 6), clock, nullptr);
  // A batch with failed requests is a failed batch, whatever succeeded; each reason is kept.
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_NE(r.error().message.find("4 of 5 requests failed"), std::string::npos) << r.error().message;
  EXPECT_EQ(e->last_failures().size(), 4u);
  const auto& all = e->last_results();
  ASSERT_EQ(all.size(), 5u);
  int ok = 0, http500 = 0, malformed = 0, cut = 0, cut_kept = 0;
  for (const auto& res : all) {
    if (res.ok) {
      ++ok;
      EXPECT_EQ(res.output_tokens, 6u);
      continue;
    }
    EXPECT_FALSE(res.error.empty());
    if (res.error.find("HTTP 500") != std::string::npos) {
      ++http500;
      EXPECT_NE(res.error.find("boom"), std::string::npos) << res.error;
    } else if (res.error.find("malformed") != std::string::npos) {
      ++malformed;
    } else {
      ++cut;
      EXPECT_LE(res.output_tokens, 2u);
      if (res.output_tokens == 2) ++cut_kept;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(http500, 1);
  EXPECT_EQ(malformed, 1);
  EXPECT_EQ(cut, 2);
  // The tokens that arrived before a close are kept in the result (after a TCP RST the
  // kernel may drop unread data, so only the closed connection is sure to keep both).
  EXPECT_GE(cut_kept, 1);
}

TEST(OpenAi, StalledStreamTimesOutAndOthersFinish) {
  std::atomic<bool> release{false};
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t i) { return i == 2 ? FakeFault::kStall : FakeFault::kNone; };
  o.release = &release;
  FakeOpenAiServer server(o);
  // The no-data timeout is what is under test, so it is a time; 3 s of silence from a
  // local server that answers at once does not happen even on a loaded sanitizer build.
  auto e = engine_for(server.base_url(), 3.0);
  SteadyClock clock;
  auto r = e->run_batch(batch(3, 4, 5), clock, nullptr);
  // The batch returned while the server still held the stalled stream: no hang.
  EXPECT_FALSE(release.load());
  release = true;
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(e->last_results().size(), 3u);
  int stalled = 0;
  for (const auto& res : e->last_results())
    if (!res.ok) {
      ++stalled;
      EXPECT_NE(res.error.find("stalled"), std::string::npos) << res.error;
      EXPECT_EQ(res.output_tokens, 2u);  // the two tokens before the stall are kept
    } else {
      EXPECT_EQ(res.output_tokens, 5u);
    }
  EXPECT_EQ(stalled, 1);
  ASSERT_EQ(e->last_failures().size(), 1u);
  EXPECT_NE(e->last_failures()[0].reason.find("stalled"), std::string::npos);
}

TEST(OpenAi, ConnectionRefusedFailsEveryRequest) {
  auto e = engine_for("http://127.0.0.1:" + std::to_string(testing::HttpServer::closed_port()));
  SteadyClock clock;
  auto r = e->run_batch(batch(2, 3, 3), clock, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  ASSERT_EQ(e->last_results().size(), 2u);
  for (const auto& res : e->last_results())
    EXPECT_NE(res.error.find("connection refused"), std::string::npos) << res.error;
}

TEST(OpenAi, ShortAnswerIsReportedAsMismatch) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kShortAnswer; };
  FakeOpenAiServer server(o);
  auto e = engine_for(server.base_url());
  SteadyClock clock;
  auto r = e->run_batch(batch(1, 3, 4), clock, nullptr);
  ASSERT_TRUE(r.ok());
  const auto& res = e->last_results().at(0);
  EXPECT_EQ(res.output_tokens, 3u);
  EXPECT_NE(res.mismatch.find("stream had 3 tokens, asked 4"), std::string::npos) << res.mismatch;
  EXPECT_NE(res.mismatch.find("usage.completion_tokens 3"), std::string::npos) << res.mismatch;
}

TEST(OpenAi, RunningUsageCountsTokensWithoutText) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kUsageOnlyCounts; };
  FakeOpenAiServer server(o);
  auto e = engine_for(server.base_url());
  SteadyClock clock;
  ASSERT_TRUE(e->run_batch(batch(2, 3, 7), clock, nullptr).ok());
  for (const auto& res : e->last_results()) {
    EXPECT_EQ(res.output_tokens, 7u);
    EXPECT_EQ(res.mismatch, "");
  }
}

TEST(OpenAi, ChatApiStreamsDeltas) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto e = engine_for(server.base_url(), 30.0, OpenAiApi::kChat);
  SteadyClock clock;
  BatchRequest b = batch(2, 5, 3);
  b.keep_text = true;
  auto r = e->run_batch(b, clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->sequences.at(0).text, "t0t1t2");
  auto j = nlohmann::json::parse(server.bodies().at(0));
  EXPECT_EQ(j["messages"][0]["role"], "user");
  EXPECT_FALSE(j.contains("prompt"));
}

TEST(OpenAi, RejectsBadConfig) {
  OpenAiConfig c;
  c.url = "ftp://x";
  EXPECT_EQ(OpenAiEngine::open(c).error().code, Errc::kInvalidArgument);
  c.url = "http://127.0.0.1:1";
  c.timeout_s = 0;
  EXPECT_EQ(OpenAiEngine::open(c).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(parse_openai_api("chat").value(), OpenAiApi::kChat);
  EXPECT_FALSE(parse_openai_api("x").ok());
}

TEST(OpenAi, ApiKeyIsSentAsBearerAndNotInEngineInfo) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  OpenAiConfig c;
  c.url = server.base_url();
  c.api_key = "sk-test-123";
  auto e = OpenAiEngine::open(c);
  ASSERT_TRUE(e.ok());
  SteadyClock clock;
  ASSERT_TRUE((*e)->run_batch(batch(1, 2, 2), clock, nullptr).ok());
  EXPECT_EQ(server.authorizations().at(0), "Bearer sk-test-123");
  for (const auto& [k, v] : (*e)->info().settings) EXPECT_EQ(v.find("sk-test"), std::string::npos) << k;
  EXPECT_EQ(server.bodies().at(0).find("sk-test"), std::string::npos);
}

TEST(OpenAi, ApiKeyFromFileOrEnvironment) {
  testing::TempDir dir;
  const std::string path = dir.write("key", "  sk-secret \nsecond line\n").string();
  EXPECT_EQ(load_api_key("", path).value(), "sk-secret");
  ::setenv("JP_TEST_OPENAI_KEY", "from-env", 1);
  EXPECT_EQ(load_api_key("JP_TEST_OPENAI_KEY", "").value(), "from-env");
  ::unsetenv("JP_TEST_OPENAI_KEY");
  EXPECT_EQ(load_api_key("JP_TEST_OPENAI_KEY", "").value(), "");
  EXPECT_EQ(load_api_key("", (dir.path() / "absent").string()).error().code, Errc::kNotFound);
}

// The URL's credentials reach the server (the request works) but never the engine's
// record: its model path and settings are what run, replay and the store print.
TEST(HostileOpenAi, EngineInfoNeverCarriesTheUrlsCredentials) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  std::string url = server.base_url() + "/v1";
  url.insert(url.find("://") + 3, "alice:SECRETKEY@");
  auto e = engine_for(url);
  SteadyClock clock;
  auto r = e->run_batch(batch(1, 4, 3), clock, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(e->info().model_path.find("SECRETKEY"), std::string::npos) << e->info().model_path;
  for (const auto& [k, v] : e->info().settings) EXPECT_EQ(v.find("SECRETKEY"), std::string::npos) << k << "=" << v;
}

}  // namespace
}  // namespace jouleperf
