// The llamacpp engine on a synthetic model: exact token counts, greedy determinism,
// token timestamps and the prefill/decode marks on the meter, and its errors.
#include <gtest/gtest.h>

#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "llama/tiny_model.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

std::unique_ptr<Engine> open_tiny(std::uint32_t n_batch = 2048) {
  LlamaEngineConfig cfg;
  cfg.model_path = testing::tiny_model();
  cfg.threads = 1;  // CI machines are shared: more threads than free cores stall ggml's barriers
  cfg.n_batch = n_batch;
  cfg.n_ubatch = std::min<std::uint32_t>(512, n_batch);
  auto e = open_llamacpp_engine(cfg);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return e.ok() ? std::move(e).value() : nullptr;
}

BatchRequest request(std::uint64_t b, std::uint64_t i, std::uint64_t o, std::uint64_t seed = 1) {
  BatchRequest r;
  r.batch = b;
  r.input_tokens = i;
  r.output_tokens = o;
  r.seed = seed;
  return r;
}

void expect_exact(const BatchResult& res, const BatchRequest& r) {
  ASSERT_EQ(res.sequences.size(), r.batch);
  EXPECT_EQ(res.input_tokens, r.batch * r.input_tokens);
  EXPECT_EQ(res.output_tokens, r.batch * r.output_tokens);
  EXPECT_EQ(res.decode_forwards, r.output_tokens - 1);
  EXPECT_LE(res.start_s, res.prefill_end_s);
  EXPECT_LE(res.prefill_end_s, res.end_s);
  for (const auto& seq : res.sequences) {
    EXPECT_EQ(seq.input_tokens, r.input_tokens);
    ASSERT_EQ(seq.tokens.size(), r.output_tokens);
    ASSERT_EQ(seq.token_s.size(), r.output_tokens);
    EXPECT_LE(seq.start_s, seq.token_s.front());
    EXPECT_LE(seq.token_s.front(), res.prefill_end_s);
    for (std::size_t k = 1; k < seq.token_s.size(); ++k) EXPECT_LE(seq.token_s[k - 1], seq.token_s[k]);
    EXPECT_LE(seq.token_s.back(), res.end_s);
    for (auto t : seq.tokens) {
      EXPECT_GE(t, 0);
      EXPECT_LT(t, 32000);
    }
  }
}

TEST(LlamaEngine, ExactTokenCounts) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  for (auto r : {request(1, 8, 5), request(3, 17, 4), request(4, 1, 1), request(2, 30, 12)}) {
    auto res = e->run_batch(r, clock, nullptr);
    ASSERT_TRUE(res.ok()) << res.error().to_string();
    expect_exact(*res, r);
  }
}

TEST(LlamaEngine, PrefillSplitAcrossForwardCallsKeepsExactCounts) {
  auto e = open_tiny(16);  // 3 x 20 prompt tokens go in four forward calls
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  const BatchRequest r = request(3, 20, 6);
  auto res = e->run_batch(r, clock, nullptr);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  expect_exact(*res, r);
  // Sequence 0's last prompt token is in the second call: its first token exists before
  // sequence 2's, whose prompt ends in the fourth.
  EXPECT_LT(res->sequences[0].token_s.front(), res->sequences[2].token_s.front());
}

TEST(LlamaEngine, GreedyIsDeterministicForAFixedSeedAndBatch) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  const BatchRequest r = request(3, 12, 10, 42);
  auto a = e->run_batch(r, clock, nullptr);
  auto b = e->run_batch(r, clock, nullptr);  // the memory is cleared in between
  ASSERT_TRUE(a.ok() && b.ok());
  auto fresh = open_tiny();
  auto c = fresh->run_batch(r, clock, nullptr);
  ASSERT_TRUE(c.ok());
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(a->sequences[s].tokens, b->sequences[s].tokens) << s;
    EXPECT_EQ(a->sequences[s].tokens, c->sequences[s].tokens) << s;
  }
  // Different prompts per sequence give different continuations.
  EXPECT_NE(a->sequences[0].tokens, a->sequences[1].tokens);
}

BatchRequest sampled(std::uint64_t b, std::uint64_t i, std::uint64_t o, double temperature, int top_k,
                     std::uint64_t sample_seed) {
  BatchRequest r = request(b, i, o, 5);
  r.strategy = DecodeStrategy::kSample;
  r.sampling.temperature = temperature;
  r.sampling.top_k = top_k;
  r.sampling.top_p = 1.0;
  r.sampling.seed = sample_seed;
  return r;
}

TEST(LlamaEngine, SamplingGivesExactCountsAndIsReproducibleFromItsSeed) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  const BatchRequest r = sampled(3, 10, 12, 1.5, 0, 7);
  auto a = e->run_batch(r, clock, nullptr);
  auto b = e->run_batch(r, clock, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  expect_exact(*a, r);
  auto other_seed = e->run_batch(sampled(3, 10, 12, 1.5, 0, 8), clock, nullptr);
  ASSERT_TRUE(other_seed.ok());
  for (std::size_t s = 0; s < 3; ++s) EXPECT_EQ(a->sequences[s].tokens, b->sequences[s].tokens) << s;
  // At temperature 1.5 over 32000 tokens two seeds agreeing on 12 tokens is vanishingly rare.
  EXPECT_NE(a->sequences[0].tokens, other_seed->sequences[0].tokens);
}

TEST(LlamaEngine, SamplingWithTopKOneIsGreedy) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  auto greedy = e->run_batch(request(2, 10, 8, 5), clock, nullptr);
  auto top1 = e->run_batch(sampled(2, 10, 8, 1.0, 1, 99), clock, nullptr);
  auto cold = e->run_batch(sampled(2, 10, 8, 0.0, 40, 99), clock, nullptr);
  ASSERT_TRUE(greedy.ok() && top1.ok() && cold.ok());
  for (std::size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(top1->sequences[s].tokens, greedy->sequences[s].tokens) << s;
    EXPECT_EQ(cold->sequences[s].tokens, greedy->sequences[s].tokens) << s;
  }
}

TEST(LlamaEngine, MarksPrefillAndDecodeOnTheMeter) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  std::vector<std::unique_ptr<Sensor>> sensors;
  SensorInfo info{"fake", "fake:0", "constant 50 W", {}};
  sensors.push_back(std::make_unique<FakePowerSensor>(info, PowerProfile().point(Seconds(0), Watts(50)), clock));
  Sampler sampler(std::move(sensors), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(true).ok());
  Meter meter(sampler);
  auto res = e->run_batch(request(2, 64, 16), clock, &meter);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  auto m = meter.stop();
  sampler.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_EQ(m->phases.size(), 2u);
  EXPECT_EQ(m->phases[0].name, "prefill");
  EXPECT_EQ(m->phases[1].name, "decode");
  // The marks bracket the engine's own timestamps (same clock).
  EXPECT_LE(m->phases[0].start_s, res->start_s);
  // Order, not distance: the decode mark lies between the end of prefill and the first
  // decoded token of every sequence.
  EXPECT_LE(res->prefill_end_s, m->phases[0].end_s);
  for (const auto& seq : res->sequences) {
    ASSERT_GE(seq.token_s.size(), 2u);
    EXPECT_LE(m->phases[0].end_s, seq.token_s[1]);
  }
  EXPECT_LE(res->end_s, m->phases[1].end_s);
  // A constant 50 W: energy is 50 W times each phase's duration.
  for (const auto& p : m->phases) EXPECT_NEAR(p.energy_j, 50.0 * p.duration_s, 0.01 * 50.0 * p.duration_s + 1e-6);
}

TEST(LlamaEngine, KeepsTextWhenAsked) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  BatchRequest r = request(2, 4, 8);
  r.keep_text = true;
  auto res = e->run_batch(r, clock, nullptr);
  ASSERT_TRUE(res.ok());
  for (const auto& seq : res->sequences) EXPECT_FALSE(seq.text.empty());
}

TEST(LlamaEngine, RejectsRequestsItCannotRun) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  EXPECT_EQ(e->run_batch(request(0, 8, 8), clock, nullptr).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(e->run_batch(request(1, 0, 8), clock, nullptr).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(e->run_batch(request(1, 8, 0), clock, nullptr).error().code, Errc::kInvalidArgument);
  // The tiny model was written with a 512-token context.
  auto too_long = e->run_batch(request(1, 500, 100), clock, nullptr);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, Errc::kInvalidArgument);
  EXPECT_NE(too_long.error().message.find("512"), std::string::npos);
  // Still usable afterwards.
  EXPECT_TRUE(e->run_batch(request(1, 8, 2), clock, nullptr).ok());
}

TEST(LlamaEngine, OpenErrorsAreDistinct) {
  testing::TempDir dir;
  LlamaEngineConfig cfg;
  cfg.model_path = (dir.path() / "absent.gguf").string();
  EXPECT_EQ(open_llamacpp_engine(cfg).error().code, Errc::kNotFound);
  cfg.model_path = dir.write("x.gguf", "not a model").string();
  EXPECT_EQ(open_llamacpp_engine(cfg).error().code, Errc::kParse);
  cfg.model_path = testing::tiny_model();
  cfg.kv_type = "q3_k";
  EXPECT_EQ(open_llamacpp_engine(cfg).error().code, Errc::kInvalidArgument);
}

TEST(LlamaEngine, ReportsWhatItRuns) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->info().engine, "llamacpp");
  EXPECT_TRUE(e->info().synthetic_model);
  EXPECT_EQ(e->info().model, "synthetic-tiny");
  bool has_threads = false;
  for (const auto& [k, v] : e->info().settings) has_threads = has_threads || (k == "threads" && v == "1");
  EXPECT_TRUE(has_threads);
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

// One engine across cells of growing prompts (as a sweep runs them): llama.cpp caps a
// context's n_batch at its size, so a context sized for a short cell and reused for a
// longer prompt must split prefill by the context's n_batch, not the configured one.
TEST(LlamaEngine, ReusedContextTakesLongerPromptsThanItsFirstCell) {
  auto e = open_tiny();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  for (auto [i, o] : {std::pair<std::uint64_t, std::uint64_t>{8, 1}, {8, 64}, {32, 1}, {128, 1}, {300, 2}}) {
    const auto r = request(1, i, o);
    auto res = e->run_batch(r, clock, nullptr);
    ASSERT_TRUE(res.ok()) << "I=" << i << " O=" << o << ": " << res.error().to_string();
    expect_exact(*res, r);
  }
}

}  // namespace
}  // namespace jouleperf
