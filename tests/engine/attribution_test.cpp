// Energy per request (engine/attribution.hpp): conservation, the idle policies, the
// properties a chargeback needs (same work, same energy; more tokens, never less; a
// failed request keeps what it used), and the white-box and black-box segments.
#include "jouleperf/engine/attribution.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

namespace jouleperf {
namespace {

// Slices of `dt` seconds over [t0, t1) of a power profile: `base` W, plus `extra` W over
// [busy0, busy1) (the energy of each slice is the profile's exact integral).
std::vector<EnergySlice> profile_slices(double t0, double t1, double dt, double base, double extra, double busy0,
                                        double busy1) {
  std::vector<EnergySlice> out;
  for (double a = t0; a < t1 - 1e-12; a += dt) {
    const double b = std::min(t1, a + dt);
    const double busy = std::max(0.0, std::min(b, busy1) - std::max(a, busy0));
    out.push_back({a, b, base * (b - a) + extra * busy});
  }
  return out;
}

// A request sent at `send` whose tokens arrive every `tpot` s from `first`.
RequestTimeline timeline(double send, double first, double tpot, std::size_t tokens, std::uint64_t input) {
  RequestTimeline r;
  r.send_s = send;
  r.first_token_s = first;
  for (std::size_t k = 0; k < tokens; ++k) r.token_s.push_back(first + tpot * static_cast<double>(k));
  r.end_s = r.token_s.back();
  r.input_tokens = input;
  return r;
}

double sum(const std::vector<EnergySlice>& s) {
  return std::accumulate(s.begin(), s.end(), 0.0, [](double v, const EnergySlice& x) { return v + x.energy_j; });
}

void expect_conserved(const Attribution& a, double total) {
  EXPECT_NEAR(a.total_j, total, 1e-9 * total);
  EXPECT_NEAR(a.attributed_j + a.unattributed_idle_j, a.total_j, 1e-9 * a.total_j);
  double requests = 0;
  for (const auto& r : a.requests) {
    requests += r.energy_j;
    EXPECT_NEAR(r.energy_j, r.prefill_j + r.decode_j + r.idle_j, 1e-12 * std::max(1.0, r.energy_j));
  }
  EXPECT_NEAR(requests, a.attributed_j, 1e-9 * a.total_j);
  if (a.total_above_idle_j) {
    EXPECT_NEAR(*a.attributed_above_idle_j + *a.unattributed_above_idle_j, *a.total_above_idle_j,
                1e-9 * std::max(1.0, std::abs(*a.total_above_idle_j)));
  }
}

std::vector<RequestTimeline> overlapping_requests() {
  return {timeline(1.0, 1.4, 0.05, 40, 512), timeline(1.5, 1.7, 0.06, 20, 128), timeline(2.0, 2.1, 0.05, 60, 64),
          timeline(2.05, 2.3, 0.04, 10, 2048)};
}

TEST(Attribution, EveryJouleGoesToARequestOrToIdleUnderEachPolicy) {
  const auto slices = profile_slices(0.0, 8.0, 0.01, 60.0, 240.0, 1.0, 5.0);
  const auto requests = overlapping_requests();
  TokenCostModel model;
  model.prefill_token = 0.2;
  model.decode_token = 1.0;
  model.decode_context = 1e-3;
  const auto segments = black_box_segments(requests, model);
  for (auto policy : {IdlePolicy::kNone, IdlePolicy::kTime, IdlePolicy::kTokens}) {
    AttributionOptions o;
    o.idle_policy = policy;
    o.idle_power_w = 60.0;
    auto a = attribute(slices, segments, requests, o);
    ASSERT_TRUE(a) << a.error().to_string();
    expect_conserved(*a, sum(slices));
    EXPECT_GT(a->idle_j, 0.0);  // before the first send and after the last token
    if (policy == IdlePolicy::kNone) {
      EXPECT_DOUBLE_EQ(a->unattributed_idle_j, a->idle_j);
      for (const auto& r : a->requests) EXPECT_EQ(r.idle_j, 0.0);
    } else {
      EXPECT_EQ(a->unattributed_idle_j, 0.0);
      for (const auto& r : a->requests) EXPECT_GT(r.idle_j, 0.0);
    }
    for (const auto& r : a->requests) {
      EXPECT_GT(r.prefill_j, 0.0);
      EXPECT_GT(r.decode_j, 0.0);
      ASSERT_TRUE(r.above_idle_j);
    }
  }
}

TEST(Attribution, ConservationHoldsPerPhase) {
  // Two phases of a rate sweep, each attributed over its own slices and requests.
  const auto slices = profile_slices(0.0, 10.0, 0.02, 50.0, 150.0, 0.5, 9.0);
  const std::vector<EnergySlice> first(slices.begin(), slices.begin() + 250),
      second(slices.begin() + 250, slices.end());
  const std::vector<RequestTimeline> p1 = {timeline(0.5, 0.8, 0.05, 30, 100), timeline(1.0, 1.2, 0.05, 50, 300)};
  const std::vector<RequestTimeline> p2 = {timeline(5.2, 5.5, 0.05, 40, 100), timeline(5.3, 5.5, 0.05, 60, 900)};
  TokenCostModel model;
  double total = 0;
  for (const auto& [s, r] : {std::pair{first, p1}, std::pair{second, p2}}) {
    auto a = attribute(s, black_box_segments(r, model), r, {});
    ASSERT_TRUE(a) << a.error().to_string();
    expect_conserved(*a, sum(s));
    total += a->attributed_j + a->unattributed_idle_j;
  }
  EXPECT_NEAR(total, sum(slices), 1e-9 * sum(slices));
}

TEST(Attribution, TheSameWorkInTheSameSituationGetsTheSameEnergy) {
  const auto slices = profile_slices(0.0, 4.0, 0.01, 40.0, 200.0, 0.0, 4.0);
  const std::vector<RequestTimeline> requests = {timeline(0.5, 0.7, 0.05, 30, 256), timeline(0.5, 0.7, 0.05, 30, 256),
                                                 timeline(0.9, 1.0, 0.03, 10, 64)};
  auto a = attribute(slices, black_box_segments(requests, TokenCostModel{}), requests, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_DOUBLE_EQ(a->requests[0].energy_j, a->requests[1].energy_j);
  EXPECT_DOUBLE_EQ(a->requests[0].prefill_j, a->requests[1].prefill_j);
}

// The black box takes the wait before a prompt's work as queueing: the prompt runs at the
// run's fast prefill rate just before its first token. A request that waited 0.9 s in a
// queue while others worked gets what one sent just in time for the same work gets.
TEST(Attribution, BlackBoxQueueingBeforeThePromptsWorkCostsNothingOfItsOwn) {
  const auto slices = profile_slices(0.0, 2.0, 0.01, 40.0, 200.0, 0.0, 2.0);
  const std::vector<RequestTimeline> requests = {
      timeline(0.0, 0.1, 0.1, 15, 100),  // 1000 prompt tokens/s: the run's fast prefill rate
      timeline(0.0, 0.1, 0.1, 15, 100), timeline(0.0, 1.0, 0.1, 6, 100),  // queued 0.9 s
      timeline(0.9, 1.0, 0.1, 6, 100),                                    // sent just in time
  };
  auto a = attribute(slices, black_box_segments(requests, TokenCostModel{}), requests, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_NEAR(a->requests[2].energy_j, a->requests[3].energy_j, 1e-9 * a->requests[3].energy_j);
  EXPECT_NEAR(a->requests[2].prefill_j, a->requests[3].prefill_j, 1e-9 * a->requests[3].prefill_j);
  EXPECT_NEAR(a->attributed_j + a->unattributed_idle_j, sum(slices), 1e-9 * sum(slices));
}

TEST(Attribution, ALongerOutputInTheSameSituationNeverGetsLess) {
  const auto slices = profile_slices(0.0, 6.0, 0.01, 40.0, 200.0, 0.0, 6.0);
  TokenCostModel model;
  model.decode_context = 0.01;
  for (std::size_t extra : {1u, 5u, 40u}) {
    const std::vector<RequestTimeline> requests = {timeline(0.5, 0.7, 0.05, 20, 256),
                                                   timeline(0.5, 0.7, 0.05, 20 + extra, 256)};
    auto a = attribute(slices, black_box_segments(requests, model), requests, {});
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_GT(a->requests[1].energy_j, a->requests[0].energy_j) << extra;
    EXPECT_DOUBLE_EQ(a->requests[1].prefill_j, a->requests[0].prefill_j);
  }
}

TEST(Attribution, AFailedRequestKeepsTheEnergyOfWhatItUsedUntilItFailed) {
  const auto slices = profile_slices(0.0, 4.0, 0.01, 40.0, 200.0, 0.0, 4.0);
  std::vector<RequestTimeline> requests = {timeline(0.5, 0.7, 0.05, 20, 256), timeline(0.5, 0.7, 0.05, 20, 256)};
  // The second: its stream was cut after 5 tokens.
  requests[1].token_s.resize(5);
  requests[1].end_s = requests[1].token_s.back();
  requests[1].ok = false;
  // A third failed before any token (HTTP 500 after 0.1 s): its prefill wait is all it used.
  RequestTimeline refused;
  refused.send_s = 1.0;
  refused.end_s = 1.1;
  refused.input_tokens = 100;
  refused.ok = false;
  requests.push_back(refused);
  // A fourth was refused a millisecond after its send (a 429): it used next to nothing.
  RequestTimeline quick = refused;
  quick.send_s = 0.6;
  quick.end_s = 0.601;
  quick.input_tokens = 4096;
  requests.push_back(quick);
  auto a = attribute(slices, black_box_segments(requests, TokenCostModel{}), requests, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_GT(a->requests[1].energy_j, 0.0);
  EXPECT_LT(a->requests[1].energy_j, a->requests[0].energy_j);
  EXPECT_GT(a->requests[2].prefill_j, 0.0);
  EXPECT_EQ(a->requests[2].decode_j, 0.0);
  EXPECT_GT(a->requests[3].energy_j, 0.0);
  EXPECT_LT(a->requests[3].energy_j, 0.01 * a->requests[0].prefill_j);
  expect_conserved(*a, sum(slices));
}

TEST(Attribution, AQueuedRequestWithNoWorkInASliceSharesItByTime) {
  // One slice, two requests in flight, no cost segment inside it (between two steps).
  const std::vector<EnergySlice> slices = {{0.0, 1.0, 10.0}};
  std::vector<RequestTimeline> requests(2);
  requests[0].send_s = 0.0;
  requests[0].end_s = 1.0;
  requests[1].send_s = 0.5;
  requests[1].end_s = 1.0;
  auto a = attribute(slices, {}, requests, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_NEAR(a->requests[0].energy_j, 10.0 * 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(a->requests[1].energy_j, 10.0 / 3.0, 1e-12);
  EXPECT_EQ(a->idle_j, 0.0);
}

TEST(Attribution, WhiteBoxStepsSplitEachStepByItsSequencesCosts) {
  // Step 1: request 0's prefill of 100 tokens; step 2: request 0 decodes, request 1 prefills 50.
  const std::vector<EngineStep> steps = {{0.0, 1.0, {{0, true, 100, 0}}},
                                         {1.0, 2.0, {{0, false, 1, 100}, {1, true, 50, 0}}}};
  TokenCostModel model;
  model.prefill_token = 1.0;
  model.decode_token = 50.0;  // one generated token costs what 50 prompt tokens do
  const std::vector<EnergySlice> slices = {{0.0, 1.0, 30.0}, {1.0, 2.0, 40.0}};
  std::vector<RequestTimeline> requests(2);
  requests[0].end_s = 2.0;
  requests[1].send_s = 1.0;
  requests[1].end_s = 2.0;
  auto a = attribute(slices, white_box_segments(steps, model), requests, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_NEAR(a->requests[0].prefill_j, 30.0, 1e-12);
  EXPECT_NEAR(a->requests[0].decode_j, 20.0, 1e-12);
  EXPECT_NEAR(a->requests[1].prefill_j, 20.0, 1e-12);
  expect_conserved(*a, 70.0);
}

TEST(Attribution, BlackBoxFromATimelineAgreesWithWhiteBoxFromTheSteps) {
  // A continuous batch: each step lasts 20 ms and emits one token per running sequence at
  // its end; a newcomer's prefill shares the step. The black box sees only the tokens.
  TokenCostModel model;
  model.prefill_token = 0.05;
  model.decode_token = 1.0;
  model.decode_context = 2e-4;
  struct Req {
    std::size_t arrive_step, output;
    std::uint64_t input;
  };
  const std::vector<Req> reqs = {{0, 30, 200}, {3, 25, 800}, {5, 40, 100}, {9, 15, 1500}, {12, 35, 400}};
  const double dt = 0.02;
  std::vector<EngineStep> steps;
  std::vector<RequestTimeline> timelines(reqs.size());
  std::vector<EnergySlice> slices;
  std::vector<std::size_t> made(reqs.size(), 0);
  for (std::size_t s = 0; s < 80; ++s) {
    EngineStep step{dt * s, dt * (s + 1), {}};
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      if (s < reqs[i].arrive_step || made[i] >= reqs[i].output) continue;
      if (s == reqs[i].arrive_step) {
        step.work.push_back({i, true, reqs[i].input, 0});
        timelines[i].send_s = dt * s;
        timelines[i].input_tokens = reqs[i].input;
      } else {
        step.work.push_back({i, false, 1, reqs[i].input + made[i]});
      }
      ++made[i];
      timelines[i].token_s.push_back(step.t1_s);
      if (made[i] == 1) timelines[i].first_token_s = step.t1_s;
      timelines[i].end_s = step.t1_s;
    }
    // The step's energy: 50 W idle plus the work's cost at 2 J per unit.
    double cost = 0;
    for (const auto& w : step.work)
      cost += w.prefill ? model.prefill_cost(w.tokens, w.context) : model.decode_cost(w.context);
    slices.push_back({step.t0_s, step.t1_s, 50.0 * dt + 2.0 * cost});
    steps.push_back(step);
  }
  auto white = attribute(slices, white_box_segments(steps, model), timelines, {});
  auto black = attribute(slices, black_box_segments(timelines, model), timelines, {});
  ASSERT_TRUE(white && black);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const double w = white->requests[i].energy_j, b = black->requests[i].energy_j;
    EXPECT_NEAR(b, w, 0.10 * w) << "request " << i;
  }
  expect_conserved(*white, sum(slices));
  expect_conserved(*black, sum(slices));
}

TEST(Attribution, BadInputIsAnErrorNamingIt) {
  const std::vector<EnergySlice> bad_order = {{1.0, 2.0, 1.0}, {0.0, 1.0, 1.0}};
  auto a = attribute(bad_order, {}, {}, {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kInvalidArgument);
  EXPECT_NE(a.error().message.find("slice 1"), std::string::npos);
  const std::vector<EnergySlice> one = {{0.0, 1.0, 1.0}};
  const std::vector<CostSegment> stray = {{3, 0.0, 1.0, 1.0, false}};
  auto b = attribute(one, stray, {}, {});
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("request 3"), std::string::npos);
  const std::vector<EnergySlice> negative = {{0.0, 1.0, -1.0}};
  EXPECT_FALSE(attribute(negative, {}, {}, {}));
  EXPECT_FALSE(parse_idle_policy("sometimes"));
  EXPECT_EQ(*parse_idle_policy("tokens"), IdlePolicy::kTokens);
  TokenCostModel free;
  free.decode_token = 0;
  EXPECT_FALSE(validate(free));
}

}  // namespace
}  // namespace jouleperf
