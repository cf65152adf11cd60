// The sim engine serves through the same Engine::serve contract as llama.cpp and the
// openai engine: one ServedRequest record per request, labelled simulated.
#include <gtest/gtest.h>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/units.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/engine/sim_engine.hpp"

namespace jouleperf {
namespace {

std::unique_ptr<Engine> sim_engine() {
  hardware::HardwareRegistry registry;
  auto e = open_sim_engine(SimEngineConfig{"h100-sxm", "vllm", "Llama-3.1-8B", "bf16", 1, {}, {}, {}}, registry);
  EXPECT_TRUE(e) << e.error().to_string();
  return e ? std::move(*e) : nullptr;
}

TEST(SimEngineServe, SimulatedRecordsPerRequestInTheOrderGiven) {
  auto e = sim_engine();
  ASSERT_NE(e, nullptr);
  ManualClock clock;
  clock.advance(Seconds(50.0));
  const std::vector<ServeRequest> reqs = {{0.5, 256, 16, 1}, {0.0, 128, 8, 1}, {0.25, 512, 32, 1}};
  ServeOptions o;
  o.max_batch = 2;
  auto r = e->serve(reqs, o, clock, nullptr);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->simulated);
  ASSERT_TRUE(r->energy_j.has_value());
  EXPECT_GT(*r->energy_j, 0.0);
  EXPECT_DOUBLE_EQ(r->start_s, 50.0);
  EXPECT_EQ(r->failed(), 0u);
  EXPECT_GE(r->peak_batch, 1u);
  EXPECT_LE(r->peak_batch, 2u);
  ASSERT_EQ(r->requests.size(), reqs.size());
  double charged = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = r->requests[i];
    EXPECT_TRUE(q.ok) << i;
    EXPECT_NEAR(q.arrival_s, 50.0 + reqs[i].arrival_s, 1e-9) << i;
    EXPECT_EQ(q.input_tokens, reqs[i].input_tokens) << i;
    EXPECT_EQ(q.output_tokens, reqs[i].output_tokens) << i;
    ASSERT_EQ(q.token_s.size(), reqs[i].output_tokens) << i;
    EXPECT_GT(q.ttft_s(), 0.0) << i;
    EXPECT_GE(q.end_s, q.token_s.back()) << i;
    EXPECT_LE(q.end_s, r->end_s) << i;
    ASSERT_TRUE(q.energy_j.has_value()) << i;
    EXPECT_GT(*q.energy_j, 0.0) << i;
    charged += *q.energy_j;
  }
  // Requests are charged the steps they took part in; idle energy is the run's alone.
  EXPECT_LE(charged, *r->energy_j * (1 + 1e-6));
  // The same record in the load generator's shape (what replay reads).
  const LoadgenRun run = served_as_loadgen_run(*r, reqs);
  ASSERT_EQ(run.requests.size(), reqs.size());
  for (const auto& q : run.requests) EXPECT_TRUE(q.result.ok);
}

TEST(SimEngineServe, StaticBatchingAndBadInput) {
  auto e = sim_engine();
  ASSERT_NE(e, nullptr);
  ManualClock clock;
  std::vector<ServeRequest> reqs(4, ServeRequest{0.0, 64, 4, 1});
  ServeOptions o;
  o.batching = BatchingMode::kStatic;
  o.max_batch = 2;
  auto r = e->serve(reqs, o, clock, nullptr);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->requests.size(), 4u);
  EXPECT_LE(r->peak_batch, 2u);
  EXPECT_EQ(e->serve({}, o, clock, nullptr).error().code, Errc::kInvalidArgument);
  o.max_batch = 0;
  EXPECT_EQ(e->serve(reqs, o, clock, nullptr).error().code, Errc::kInvalidArgument);
}

TEST(SimEngineServe, ARequestThatNeverFitsIsAFailedRecord) {
  auto e = sim_engine();
  ASSERT_NE(e, nullptr);
  ManualClock clock;
  // Llama-3.1-8B's context is 131072 tokens: the second request can never be served.
  const std::vector<ServeRequest> reqs = {{0.0, 64, 4, 1}, {0.0, 200000, 4, 1}};
  auto r = e->serve(reqs, ServeOptions{}, clock, nullptr);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->failed(), 1u);
  EXPECT_TRUE(r->requests[0].ok);
  EXPECT_FALSE(r->requests[1].ok);
  EXPECT_NE(r->requests[1].error.find("rejected"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
