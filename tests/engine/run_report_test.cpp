// Summaries of a measured batch: speeds and energies per phase, per-request figures,
// and the JSON fields `jouleperf run --json` promises.
#include "jouleperf/engine/run_report.hpp"

#include <gtest/gtest.h>

namespace jouleperf {
namespace {

// Two sequences of 10 prompt and 4 generated tokens: prefill 0.5 s, decode 1.5 s.
BatchResult two_sequences() {
  BatchResult r;
  r.start_s = 100.0;
  r.prefill_end_s = 100.5;
  r.end_s = 102.0;
  r.input_tokens = 20;
  r.output_tokens = 8;
  r.decode_forwards = 3;
  for (int s = 0; s < 2; ++s) {
    SequenceResult q;
    q.input_tokens = 10;
    q.start_s = 100.0;
    q.tokens = {1, 2, 3, 4};
    q.token_s = {100.4 + 0.1 * s, 101.0, 101.5, 102.0};
    r.sequences.push_back(q);
  }
  return r;
}

Measurement phased(double prefill_j, double decode_j) {
  Measurement m;
  m.total.name = "total";
  m.total.energy_j = prefill_j + decode_j;
  m.total.duration_s = 2.0;
  m.total.energy_source = "cpu-time-model";
  m.total.estimated = true;
  IntervalEnergy p;
  p.name = "prefill";
  p.energy_j = prefill_j;
  IntervalEnergy d;
  d.name = "decode";
  d.energy_j = decode_j;
  m.phases = {p, d};
  return m;
}

TEST(RunReport, SpeedsAndEnergiesPerPhase) {
  const RunSummary s = summarize_run(two_sequences(), phased(30.0, 90.0));
  EXPECT_EQ(s.batch, 2u);
  EXPECT_EQ(s.input_tokens, 20u);
  EXPECT_EQ(s.output_tokens, 8u);
  EXPECT_DOUBLE_EQ(s.prefill_s, 0.5);
  EXPECT_DOUBLE_EQ(s.decode_s, 1.5);
  EXPECT_DOUBLE_EQ(s.prefill_tokens_per_s, 40.0);
  ASSERT_TRUE(s.decode_tokens_per_s.has_value());
  EXPECT_DOUBLE_EQ(*s.decode_tokens_per_s, 6.0 / 1.5);  // 3 decode tokens per sequence
  EXPECT_DOUBLE_EQ(s.energy_j, 120.0);
  EXPECT_DOUBLE_EQ(*s.prefill_energy_j, 30.0);
  EXPECT_DOUBLE_EQ(*s.decode_energy_j, 90.0);
  EXPECT_TRUE(s.estimated);
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_NEAR(s.requests[0].ttft_s, 0.4, 1e-12);
  EXPECT_NEAR(s.requests[1].ttft_s, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(s.requests[1].e2e_s, 2.0);
  EXPECT_DOUBLE_EQ(s.requests[0].energy_j + s.requests[1].energy_j, 120.0);
}

TEST(RunReport, OneOutputTokenHasNoDecodeSpeed) {
  BatchResult r = two_sequences();
  r.decode_forwards = 0;
  r.end_s = r.prefill_end_s;
  for (auto& q : r.sequences) {
    q.tokens.resize(1);
    q.token_s.resize(1);
  }
  const RunSummary s = summarize_run(r, phased(30.0, 0.0));
  EXPECT_FALSE(s.decode_tokens_per_s.has_value());
}

TEST(RunReport, JsonHasTheDocumentedFields) {
  BatchRequest req;
  req.batch = 2;
  req.input_tokens = 10;
  req.output_tokens = 4;
  EngineInfo e;
  e.engine = "llamacpp";
  e.settings = {{"threads", "2"}};
  const Measurement m = phased(30.0, 90.0);
  const nlohmann::json j = to_json(summarize_run(two_sequences(), m), req, e, m);
  for (const char* k : {"input_tokens", "output_tokens", "prefill_s", "decode_s", "prefill_tokens_per_s",
                        "decode_tokens_per_s", "energy_j", "prefill_energy_j", "decode_energy_j", "energy_source",
                        "estimated", "requests", "engine", "strategy", "batching", "settings", "measurement"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["input_tokens"], 20);
  EXPECT_EQ(j["output_tokens"], 8);
  EXPECT_EQ(j["energy_source"], "cpu-time-model");
  EXPECT_EQ(j["estimated"], true);
  ASSERT_EQ(j["requests"].size(), 2u);
  for (const char* k : {"output_tokens", "ttft_s", "e2e_s"}) EXPECT_TRUE(j["requests"][0].contains(k)) << k;
  EXPECT_FALSE(j["requests"][0].contains("text"));
  EXPECT_EQ(j["settings"]["threads"], "2");
}

TEST(RunReport, ParsesKnobs) {
  EXPECT_EQ(*parse_strategy("greedy"), DecodeStrategy::kGreedy);
  EXPECT_EQ(*parse_strategy("sample"), DecodeStrategy::kSample);
  EXPECT_EQ(strategy_name(DecodeStrategy::kSample), "sample");
  EXPECT_EQ(*parse_strategy("beam"), DecodeStrategy::kBeam);
  EXPECT_EQ(*parse_strategy("speculative"), DecodeStrategy::kSpeculative);
  EXPECT_EQ(strategy_name(DecodeStrategy::kSpeculative), "speculative");
  EXPECT_EQ(parse_strategy("random").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(*parse_batching("static"), BatchingMode::kStatic);
  EXPECT_EQ(*parse_batching("continuous"), BatchingMode::kContinuous);
  EXPECT_EQ(batching_name(BatchingMode::kContinuous), "continuous");
  EXPECT_EQ(parse_batching("dynamic").error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace jouleperf
