// The sim engine honours the decoding strategy (greedy, sample, beam, speculative)
// through the Engine interface, with the simulator's own decoding model.
#include <gtest/gtest.h>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/engine/sim_engine.hpp"

namespace jouleperf {
namespace {

std::unique_ptr<Engine> open(const std::string& draft = "Llama-3.2-1B") {
  hardware::HardwareRegistry registry;
  SimEngineConfig c;
  c.hardware = "h100-sxm";
  c.stack = "vllm";
  c.model = "Llama-3.1-8B";
  auto e = open_sim_engine(c, registry, draft);
  EXPECT_TRUE(e) << e.error().to_string();
  return e ? std::move(*e) : nullptr;
}

BatchRequest request(DecodeStrategy s, std::uint64_t batch) {
  BatchRequest r;
  r.batch = batch;
  r.input_tokens = 512;
  r.output_tokens = 128;
  r.strategy = s;
  if (s == DecodeStrategy::kSpeculative) {
    r.draft_tokens = 4;
    r.forced_accept_rate = 0.8;
  }
  r.beam_width = 4;
  return r;
}

BatchResult run(Engine& e, const BatchRequest& r) {
  ManualClock clock;
  auto res = e.run_batch(r, clock, nullptr);
  EXPECT_TRUE(res) << res.error().to_string();
  return res ? *res : BatchResult{};
}

double duration(const BatchResult& r) { return r.end_s - r.start_s; }
double energy(const BatchResult& r) { return r.simulated ? r.simulated->energy_j : 0.0; }

TEST(SimEngineStrategy, SpeculativeIsFasterAtBatchOneAndCostsMoreEnergyAtBatch128) {
  auto e = open();
  ASSERT_TRUE(e);
  const BatchResult greedy1 = run(*e, request(DecodeStrategy::kGreedy, 1));
  const BatchResult spec1 = run(*e, request(DecodeStrategy::kSpeculative, 1));
  EXPECT_LT(duration(spec1), 0.8 * duration(greedy1));
  EXPECT_LT(energy(spec1), energy(greedy1));
  const BatchResult greedy128 = run(*e, request(DecodeStrategy::kGreedy, 128));
  const BatchResult spec128 = run(*e, request(DecodeStrategy::kSpeculative, 128));
  EXPECT_GT(energy(spec128), energy(greedy128));

  // Forwards and acceptance as the llamacpp engine reports them: fewer target forwards
  // than O - 1 (several tokens per step), gamma draft forwards per step, acceptance alpha.
  EXPECT_EQ(greedy1.decode_forwards, 127u);
  EXPECT_EQ(greedy1.draft_forwards, 0u);
  EXPECT_FALSE(greedy1.draft_acceptance);
  EXPECT_GT(spec1.decode_forwards, 0u);
  EXPECT_LT(spec1.decode_forwards, 127u / 2);
  EXPECT_EQ(spec1.draft_forwards, 4u * spec1.decode_forwards);
  ASSERT_TRUE(spec1.draft_acceptance);
  EXPECT_DOUBLE_EQ(*spec1.draft_acceptance, 0.8);
  ASSERT_TRUE(spec1.simulated);
  EXPECT_NE(spec1.simulated->description.find("speculative decoding with Llama-3.2-1B"), std::string::npos)
      << spec1.simulated->description;
}

TEST(SimEngineStrategy, BeamSearchCostsMoreThanGreedyAndSamplingTheSame) {
  auto e = open();
  ASSERT_TRUE(e);
  for (std::uint64_t b : {1u, 16u}) {
    const BatchResult greedy = run(*e, request(DecodeStrategy::kGreedy, b));
    const BatchResult beam = run(*e, request(DecodeStrategy::kBeam, b));
    const BatchResult sample = run(*e, request(DecodeStrategy::kSample, b));
    EXPECT_GT(energy(beam), energy(greedy)) << b;
    EXPECT_GE(duration(beam), duration(greedy)) << b;
    EXPECT_DOUBLE_EQ(energy(sample), energy(greedy)) << b;
    EXPECT_DOUBLE_EQ(duration(sample), duration(greedy)) << b;
    ASSERT_TRUE(beam.simulated);
    EXPECT_NE(beam.simulated->description.find("beam width 4"), std::string::npos) << beam.simulated->description;
  }
  // A wider beam costs more still.
  BatchRequest wide = request(DecodeStrategy::kBeam, 4);
  wide.beam_width = 8;
  EXPECT_GT(energy(run(*e, wide)), energy(run(*e, request(DecodeStrategy::kBeam, 4))));
}

TEST(SimEngineStrategy, ExactTokenCountsForEveryStrategy) {
  auto e = open();
  ASSERT_TRUE(e);
  for (auto s : {DecodeStrategy::kGreedy, DecodeStrategy::kSample, DecodeStrategy::kBeam, DecodeStrategy::kSpeculative})
    for (std::uint64_t o : {1u, 2u, 7u, 33u}) {
      BatchRequest r = request(s, 3);
      r.input_tokens = 40;
      r.output_tokens = o;
      const BatchResult res = run(*e, r);
      EXPECT_EQ(res.input_tokens, 3u * 40u);
      EXPECT_EQ(res.output_tokens, 3u * o) << strategy_name(s) << " O=" << o;
      ASSERT_EQ(res.sequences.size(), 3u);
      for (const auto& seq : res.sequences) {
        EXPECT_EQ(seq.tokens.size(), o) << strategy_name(s);
        EXPECT_EQ(seq.token_s.size(), o) << strategy_name(s);
      }
      ASSERT_TRUE(res.simulated) << strategy_name(s);
      if (o == 1) {
        EXPECT_EQ(res.decode_forwards, 0u) << strategy_name(s);
      }
    }
}

TEST(SimEngineStrategy, SpeculativeNeedsAnAcceptanceRateAndADraft) {
  auto e = open();
  ASSERT_TRUE(e);
  ManualClock clock;
  BatchRequest r = request(DecodeStrategy::kSpeculative, 1);
  r.forced_accept_rate.reset();
  auto res = e->run_batch(r, clock, nullptr);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kInvalidArgument);
  EXPECT_NE(res.error().message.find("acceptance rate"), std::string::npos) << res.error().message;

  r.forced_accept_rate = 1.5;
  res = e->run_batch(r, clock, nullptr);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kInvalidArgument);

  r.forced_accept_rate = 0.8;
  r.draft_tokens = 0;
  res = e->run_batch(r, clock, nullptr);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kInvalidArgument);

  auto no_draft = open("");
  ASSERT_TRUE(no_draft);
  res = no_draft->run_batch(request(DecodeStrategy::kSpeculative, 1), clock, nullptr);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Errc::kInvalidArgument);
  EXPECT_NE(res.error().message.find("draft model"), std::string::npos) << res.error().message;
  // Greedy still runs without a draft.
  EXPECT_TRUE(no_draft->run_batch(request(DecodeStrategy::kGreedy, 1), clock, nullptr));
}

TEST(SimEngineStrategy, RejectsAnUnknownDraftOrOneWithAnotherVocabulary) {
  hardware::HardwareRegistry registry;
  SimEngineConfig c;
  auto e = open_sim_engine(c, registry, "no-such-model");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::kInvalidArgument);
  EXPECT_NE(e.error().message.find("draft model"), std::string::npos) << e.error().message;
  e = open_sim_engine(c, registry, "OLMo-1B");  // another tokenizer than Llama-3.1-8B's
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("share a tokenizer"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace jouleperf
