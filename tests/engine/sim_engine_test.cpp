#include "jouleperf/engine/sim_engine.hpp"

#include <gtest/gtest.h>

#include <map>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/units.hpp"

namespace jouleperf {
namespace {

TEST(SimEngine, PricesABatchWithSimulatedTimesAndEnergy) {
  hardware::HardwareRegistry registry;
  auto e = open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ((*e)->info().engine, "sim");
  ManualClock clock;
  clock.advance(Seconds(100.0));
  BatchRequest req;
  req.batch = 4;
  req.input_tokens = 512;
  req.output_tokens = 64;
  auto r = (*e)->run_batch(req, clock, nullptr);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_DOUBLE_EQ(r->start_s, 100.0);
  EXPECT_DOUBLE_EQ(clock.now().value(), 100.0) << "nothing sleeps";
  EXPECT_GT(r->prefill_end_s, r->start_s);
  EXPECT_GT(r->end_s, r->prefill_end_s);
  EXPECT_EQ(r->output_tokens, 4u * 64u);
  ASSERT_EQ(r->sequences.size(), 4u);
  EXPECT_EQ(r->sequences[0].tokens.size(), 64u);
  ASSERT_TRUE(r->simulated.has_value());
  EXPECT_GT(r->simulated->energy_j, 0.0);
  EXPECT_GT(r->simulated->prefill_energy_j, 0.0);
  EXPECT_GT(r->simulated->decode_energy_j, 0.0);
  EXPECT_NEAR(r->simulated->prefill_energy_j + r->simulated->decode_energy_j, r->simulated->energy_j, 1e-9);
  EXPECT_FALSE(r->simulated->description.empty());

  // More output tokens cost more energy; a bigger batch costs less per request.
  req.output_tokens = 128;
  auto longer = (*e)->run_batch(req, clock, nullptr);
  ASSERT_TRUE(longer);
  EXPECT_GT(longer->simulated->energy_j, r->simulated->energy_j);
  req.output_tokens = 64;
  req.batch = 32;
  auto bigger = (*e)->run_batch(req, clock, nullptr);
  ASSERT_TRUE(bigger);
  EXPECT_LT(bigger->simulated->energy_j / 32.0, r->simulated->energy_j / 4.0);
}

TEST(SimEngine, ABatchThatDoesNotFitIsUnsupported) {
  hardware::HardwareRegistry registry;
  auto e = open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_TRUE(e);
  ManualClock clock;
  BatchRequest req;
  req.batch = 1024;
  req.input_tokens = 8192;
  req.output_tokens = 512;
  auto r = (*e)->run_batch(req, clock, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_NE(r.error().message.find("does not fit"), std::string::npos) << r.error().message;
}

TEST(SimEngine, RejectsAContextLongerThanTheModelsAndBadNames) {
  hardware::HardwareRegistry registry;
  auto e = open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_TRUE(e);
  ManualClock clock;
  BatchRequest req;
  req.input_tokens = 10'000'000;
  auto r = (*e)->run_batch(req, clock, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("context too long"), std::string::npos);

  auto bad_hw =
      open_sim_engine(SimEngineConfig{"no-such-gpu", "vllm", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_FALSE(bad_hw);
  EXPECT_NE(bad_hw.error().message.find("hardware"), std::string::npos);
  auto bad_stack =
      open_sim_engine(SimEngineConfig{"h100-sxm", "nope", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_FALSE(bad_stack);
  EXPECT_NE(bad_stack.error().message.find("stack"), std::string::npos);
  auto bad_model =
      open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "no-such-model", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_FALSE(bad_model);
  EXPECT_NE(bad_model.error().message.find("model"), std::string::npos);
}

// Clocks and power limits (issue 19, docs/simulator.md "Clocks and power caps"): the
// engine reports what it runs at, and a locked clock costs batch-1 decode less energy.
TEST(SimEngine, ClockSettingsAreReportedAndRefusedWhenTheyCannotApply) {
  hardware::HardwareRegistry registry;
  SimEngineConfig c{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, 420.0, 990.0, {}};
  auto e = open_sim_engine(c, registry);
  ASSERT_TRUE(e) << e.error().message;
  std::map<std::string, std::string> settings((*e)->info().settings.begin(), (*e)->info().settings.end());
  EXPECT_EQ(settings["gpu_power_limit_w"], "420");
  EXPECT_EQ(settings["gpu_clock_ratio"], "0.5");
  EXPECT_EQ(settings["gpu_locked_clocks_mhz"], "990");
  auto plain = open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  ASSERT_TRUE(plain);
  SteadyClock clock;
  BatchRequest req;
  req.input_tokens = 128;
  req.output_tokens = 64;
  auto slow = (*e)->run_batch(req, clock, nullptr);
  auto fast = (*plain)->run_batch(req, clock, nullptr);
  ASSERT_TRUE(slow && fast);
  ASSERT_TRUE(slow->simulated && fast->simulated);
  EXPECT_LT(slow->simulated->energy_j, 0.9 * fast->simulated->energy_j);

  auto both = open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, {}, 990.0, 0.5}, registry);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("not both"), std::string::npos);
  auto no_clock = open_sim_engine(SimEngineConfig{"l40s", "vllm", "Llama-3.1-8B", "bf16", 1, {}, 1000.0, {}}, registry);
  ASSERT_FALSE(no_clock);
  EXPECT_EQ(no_clock.error().code, Errc::kUnsupported);
  auto idle_cap =
      open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, 50.0, {}, {}}, registry);
  ASSERT_FALSE(idle_cap);
  EXPECT_EQ(idle_cap.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace jouleperf
