// Decoding strategies on the llamacpp engine with synthetic models: exact token counts for
// greedy, sampling, beam search and speculative decoding in both batching modes; beam
// width 1 and speculative decoding with draft = target reproduce greedy; a forced
// acceptance rate is what the run reports; bad settings fail clearly.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/model/synth.hpp"
#include "llama/tiny_model.hpp"

namespace jouleperf {
namespace {

// A synthetic model written once per build directory (see tiny_model.hpp).
std::string synth_model(const std::string& file, const SynthConfig& c) {
  const auto dir = std::filesystem::path(JP_BINARY_DIR) / "tests" / "models";
  const auto path = dir / file;
  if (std::filesystem::exists(path)) return path.string();
  std::filesystem::create_directories(dir);
  const auto tmp = dir / (file + "." + std::to_string(getpid()) + ".tmp");
  auto info = write_synthetic_gguf(c, tmp.string());
  EXPECT_TRUE(info.ok()) << info.error().to_string();
  std::filesystem::rename(tmp, path);
  return path.string();
}

// A smaller draft with the tiny model's 32000-token vocabulary.
std::string small_draft() {
  SynthConfig c;
  c.name = "synthetic-draft";
  c.dim = 64, c.layers = 1, c.heads = 2, c.kv_heads = 2, c.ffn = 128;
  c.type = WeightType::kQ8_0;
  c.context_length = 512;
  c.seed = 3;
  c.vocab_path = default_vocab_path();
  return synth_model("draft-64x1-q8_0.gguf", c);
}

std::unique_ptr<Engine> open_engine(const std::string& draft = "") {
  LlamaEngineConfig cfg;
  cfg.model_path = testing::tiny_model();
  cfg.threads = 1;
  cfg.draft_model_path = draft;
  auto e = open_llamacpp_engine(cfg);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return e.ok() ? std::move(e).value() : nullptr;
}

BatchRequest request(DecodeStrategy s, std::uint64_t b, std::uint64_t i, std::uint64_t o, BatchingMode m) {
  BatchRequest r;
  r.batch = b;
  r.input_tokens = i;
  r.output_tokens = o;
  r.seed = 11;
  r.strategy = s;
  r.batching = m;
  r.beam_width = 3;
  r.draft_tokens = 3;
  return r;
}

void expect_exact(const BatchResult& res, const BatchRequest& r) {
  ASSERT_EQ(res.sequences.size(), r.batch);
  EXPECT_EQ(res.input_tokens, r.batch * r.input_tokens);
  EXPECT_EQ(res.output_tokens, r.batch * r.output_tokens);
  EXPECT_LE(res.start_s, res.prefill_end_s);
  EXPECT_LE(res.prefill_end_s, res.end_s);
  for (const auto& seq : res.sequences) {
    ASSERT_EQ(seq.tokens.size(), r.output_tokens);
    ASSERT_EQ(seq.token_s.size(), r.output_tokens);
    EXPECT_LE(seq.token_s.front(), res.prefill_end_s);
    for (std::size_t k = 1; k < seq.token_s.size(); ++k) EXPECT_LE(seq.token_s[k - 1], seq.token_s[k]);
    for (auto t : seq.tokens) {
      EXPECT_GE(t, 0);
      EXPECT_LT(t, 32000);
    }
  }
}

TEST(LlamaDecode, ExactTokenCountsForEveryStrategyAndBatchingMode) {
  auto e = open_engine(small_draft());
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  for (auto s : {DecodeStrategy::kGreedy, DecodeStrategy::kSample, DecodeStrategy::kBeam, DecodeStrategy::kSpeculative})
    for (auto m : {BatchingMode::kStatic, BatchingMode::kContinuous})
      for (std::uint64_t b : {1u, 3u})
        for (std::uint64_t o : {1u, 2u, 9u}) {
          const BatchRequest r = request(s, b, 7, o, m);
          auto res = e->run_batch(r, clock, nullptr);
          ASSERT_TRUE(res.ok()) << strategy_name(s) << ": " << res.error().to_string();
          SCOPED_TRACE(fmt::format("{} {} B={} O={}", strategy_name(s), batching_name(m), b, o));
          expect_exact(*res, r);
          if (s == DecodeStrategy::kSpeculative) {
            EXPECT_GE(res->decode_forwards, 1u * (o > 1));
            EXPECT_LE(res->decode_forwards, o - 1);
            EXPECT_EQ(res->draft_acceptance.has_value(), o > 2) << "a draft token is judged once two are due";
          } else {
            EXPECT_EQ(res->decode_forwards, o - 1);
            EXPECT_EQ(res->draft_forwards, 0u);
            EXPECT_FALSE(res->draft_acceptance.has_value());
          }
        }
}

TEST(LlamaDecode, GreedyIsDeterministicForAFixedSeedAndBatch) {
  auto e = open_engine();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  for (auto m : {BatchingMode::kStatic, BatchingMode::kContinuous}) {
    const BatchRequest r = request(DecodeStrategy::kGreedy, 3, 9, 8, m);
    auto a = e->run_batch(r, clock, nullptr);
    auto b = e->run_batch(r, clock, nullptr);
    ASSERT_TRUE(a.ok() && b.ok());
    for (std::size_t s = 0; s < 3; ++s) EXPECT_EQ(a->sequences[s].tokens, b->sequences[s].tokens) << s;
  }
}

TEST(LlamaDecode, BeamWidthOneIsGreedy) {
  auto e = open_engine();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  BatchRequest g = request(DecodeStrategy::kGreedy, 3, 9, 10, BatchingMode::kStatic);
  BatchRequest b = g;
  b.strategy = DecodeStrategy::kBeam;
  b.beam_width = 1;
  auto greedy = e->run_batch(g, clock, nullptr);
  auto beam = e->run_batch(b, clock, nullptr);
  ASSERT_TRUE(greedy.ok() && beam.ok()) << beam.error().to_string();
  for (std::size_t s = 0; s < 3; ++s) EXPECT_EQ(beam->sequences[s].tokens, greedy->sequences[s].tokens) << s;
}

TEST(LlamaDecode, WiderBeamsAreDeterministic) {
  auto e = open_engine();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  BatchRequest b = request(DecodeStrategy::kBeam, 2, 9, 12, BatchingMode::kStatic);
  b.beam_width = 4;
  auto x = e->run_batch(b, clock, nullptr);
  auto y = e->run_batch(b, clock, nullptr);
  ASSERT_TRUE(x.ok() && y.ok()) << x.error().to_string();
  expect_exact(*x, b);
  for (std::size_t s = 0; s < 2; ++s) EXPECT_EQ(x->sequences[s].tokens, y->sequences[s].tokens) << s;
}

TEST(LlamaDecode, SpeculativeWithDraftEqualToTargetAcceptsEveryToken) {
  auto e = open_engine(testing::tiny_model());
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  for (std::uint64_t b : {1u, 3u}) {
    BatchRequest g = request(DecodeStrategy::kGreedy, b, 9, 13, BatchingMode::kStatic);
    BatchRequest sp = g;
    sp.strategy = DecodeStrategy::kSpeculative;
    sp.draft_tokens = 4;
    auto greedy = e->run_batch(g, clock, nullptr);
    auto spec = e->run_batch(sp, clock, nullptr);
    ASSERT_TRUE(greedy.ok() && spec.ok()) << spec.error().to_string();
    expect_exact(*spec, sp);
    ASSERT_TRUE(spec->draft_acceptance.has_value());
    EXPECT_EQ(*spec->draft_acceptance, 1.0);
    // 12 tokens after the first: steps of 5 (4 accepted + the target's), 5, then 2.
    EXPECT_EQ(spec->decode_forwards, 3u);
    EXPECT_EQ(spec->draft_forwards, 4u + 4u + 1u);
    for (std::size_t s = 0; s < b; ++s) EXPECT_EQ(spec->sequences[s].tokens, greedy->sequences[s].tokens) << s;
  }
}

TEST(LlamaDecode, ARealSmallDraftIsVerifiedAgainstTheTarget) {
  auto e = open_engine(small_draft());
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  BatchRequest g = request(DecodeStrategy::kGreedy, 2, 9, 12, BatchingMode::kStatic);
  BatchRequest sp = g;
  sp.strategy = DecodeStrategy::kSpeculative;
  auto greedy = e->run_batch(g, clock, nullptr);
  auto spec = e->run_batch(sp, clock, nullptr);
  ASSERT_TRUE(greedy.ok() && spec.ok()) << spec.error().to_string();
  expect_exact(*spec, sp);
  // Greedy verification keeps the target's own greedy output whatever the draft says.
  for (std::size_t s = 0; s < 2; ++s) EXPECT_EQ(spec->sequences[s].tokens, greedy->sequences[s].tokens) << s;
  ASSERT_TRUE(spec->draft_acceptance.has_value());
  EXPECT_GE(*spec->draft_acceptance, 0.0);
  EXPECT_LE(*spec->draft_acceptance, 1.0);
  EXPECT_GT(spec->draft_forwards, 0u);
}

TEST(LlamaDecode, AForcedAcceptanceRateIsWhatTheRunReports) {
  auto e = open_engine(small_draft());
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  BatchRequest r = request(DecodeStrategy::kSpeculative, 3, 5, 120, BatchingMode::kStatic);
  r.draft_tokens = 4;
  r.forced_accept_rate = 0.5;
  auto res = e->run_batch(r, clock, nullptr);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  expect_exact(*res, r);
  ASSERT_TRUE(res->draft_acceptance.has_value());
  EXPECT_NEAR(*res->draft_acceptance, 0.5, 0.1);
  // About 1.9 tokens per target forward at rate 0.5 with 4 proposals.
  EXPECT_LT(res->decode_forwards, 100u);
  EXPECT_GT(res->decode_forwards, 40u);
  r.output_tokens = 30;
  r.forced_accept_rate = 1.0;
  auto all = e->run_batch(r, clock, nullptr);
  ASSERT_TRUE(all.ok());
  expect_exact(*all, r);
  EXPECT_EQ(*all->draft_acceptance, 1.0);
  EXPECT_EQ(all->decode_forwards, 6u);  // 29 tokens in steps of 5, 5, 5, 5, 5, 4
  r.forced_accept_rate = 0.0;
  auto none = e->run_batch(r, clock, nullptr);
  ASSERT_TRUE(none.ok());
  expect_exact(*none, r);
  EXPECT_EQ(*none->draft_acceptance, 0.0);
  EXPECT_EQ(none->decode_forwards, 29u);
}

TEST(LlamaDecode, BadSettingsGiveClearErrors) {
  auto e = open_engine();
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  BatchRequest beam = request(DecodeStrategy::kBeam, 1, 4, 4, BatchingMode::kStatic);
  beam.beam_width = 0;
  auto zero = e->run_batch(beam, clock, nullptr);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, Errc::kInvalidArgument);
  EXPECT_NE(zero.error().message.find("beam width"), std::string::npos);
  beam.beam_width = 8;
  beam.batch = 32;  // 2 x 32 x 8 = 512 sequence ids
  auto wide = e->run_batch(beam, clock, nullptr);
  ASSERT_FALSE(wide.ok());
  EXPECT_NE(wide.error().message.find("512 sequence ids"), std::string::npos) << wide.error().message;

  // Speculative decoding without a draft model.
  auto no_draft = e->run_batch(request(DecodeStrategy::kSpeculative, 1, 4, 4, BatchingMode::kStatic), clock, nullptr);
  ASSERT_FALSE(no_draft.ok());
  EXPECT_EQ(no_draft.error().code, Errc::kInvalidArgument);
  EXPECT_NE(no_draft.error().message.find("draft model"), std::string::npos);

  auto with_draft = open_engine(small_draft());
  ASSERT_NE(with_draft, nullptr);
  BatchRequest sp = request(DecodeStrategy::kSpeculative, 1, 4, 4, BatchingMode::kStatic);
  sp.draft_tokens = 0;
  EXPECT_EQ(with_draft->run_batch(sp, clock, nullptr).error().code, Errc::kInvalidArgument);
  sp.draft_tokens = 2;
  sp.forced_accept_rate = 1.5;
  EXPECT_EQ(with_draft->run_batch(sp, clock, nullptr).error().code, Errc::kInvalidArgument);
  sp.forced_accept_rate.reset();
  EXPECT_TRUE(with_draft->run_batch(sp, clock, nullptr).ok());  // still usable

  // serve() runs greedy and sampling only.
  ServeOptions so;
  so.strategy = DecodeStrategy::kBeam;
  auto served = e->serve({ServeRequest{}}, so, clock, nullptr);
  ASSERT_FALSE(served.ok());
  EXPECT_EQ(served.error().code, Errc::kUnsupported);
}

TEST(LlamaDecode, ADraftWithAnotherVocabularyIsRefused) {
  const auto gpt2 = std::filesystem::path(JP_SOURCE_DIR) / "third_party/_src/llama.cpp/models/ggml-vocab-gpt-2.gguf";
  if (!std::filesystem::exists(gpt2)) GTEST_SKIP() << "no " << gpt2;
  SynthConfig c;
  c.name = "synthetic-gpt2-vocab";
  c.dim = 32, c.layers = 1, c.heads = 1, c.kv_heads = 1, c.ffn = 64;
  c.type = WeightType::kQ8_0;
  c.context_length = 512;
  c.vocab_path = gpt2.string();
  const std::string other = synth_model("draft-gpt2-vocab.gguf", c);
  LlamaEngineConfig cfg;
  cfg.model_path = testing::tiny_model();
  cfg.threads = 1;
  cfg.draft_model_path = other;
  auto e = open_llamacpp_engine(cfg);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::kInvalidArgument);
  EXPECT_NE(e.error().message.find("vocabulary"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find(other), std::string::npos) << e.error().message;
  cfg.draft_model_path = "/nonexistent/draft.gguf";
  auto missing = open_llamacpp_engine(cfg);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_NE(missing.error().message.find("draft"), std::string::npos);
}

TEST(LlamaDecode, StrategyNamesRoundTrip) {
  for (auto s : {DecodeStrategy::kGreedy, DecodeStrategy::kSample, DecodeStrategy::kBeam, DecodeStrategy::kSpeculative})
    EXPECT_EQ(*parse_strategy(strategy_name(s)), s);
}

}  // namespace
}  // namespace jouleperf
