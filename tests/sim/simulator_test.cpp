// The serving simulator: single requests checked step by step against the per-iteration
// model, idle accounting, static and continuous batching, chunked prefill, KV capacity
// and preemption, rejection, speculative decoding, beams, replicas, and invariants
// (energy is conserved across the per-request split, order does not matter).
#include "jouleperf/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/step.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::sim {
namespace {

using workload::TimedRequest;

ModelInfo model(const char* name) {
  auto a = find_builtin_arch(name);
  EXPECT_TRUE(a.ok()) << name;
  return info_from_arch(*a);
}

hardware::HardwareProfile hw(const char* name) {
  hardware::HardwareRegistry r;
  auto p = r.find(name);
  if (!p.ok()) {
    ADD_FAILURE() << p.error().message;
    return {};
  }
  return std::move(*p);
}

SimConfig config(const char* h, const char* stack, const char* m = "Llama-3.1-8B") {
  auto s = find_stack(stack);
  EXPECT_TRUE(s.ok());
  return make_config(hw(h), *s, model(m));
}

SimResult run(const SimConfig& c, const std::vector<TimedRequest>& reqs) {
  auto r = simulate(c, reqs);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    return {};
  }
  return std::move(*r);
}

StepModel step_model(const SimConfig& c) {
  auto m = StepModel::create(c.model, c.hardware, c.stack, c.precision, c.tp, c.power);
  EXPECT_TRUE(m.ok());
  return std::move(*m);
}

TEST(Simulator, OneRequestIsItsStepsAddedUp) {
  const SimConfig c = config("h100-sxm", "vllm");
  const SimResult r = run(c, {{0.0, 100, 10}});
  ASSERT_EQ(r.completed, 1u);
  EXPECT_TRUE(r.simulated);
  const StepModel m = step_model(c);
  const StepCost pre = m.evaluate(prefill_chunk(0, 100, true, LogitsMode::kLast));
  double t = pre.duration_s, e = pre.energy_j;
  for (int k = 1; k <= 9; ++k) {  // the 9 tokens after the first, context 101..109
    const StepCost d = m.evaluate(decode_rows(1, 100 + k));
    t += d.duration_s;
    e += d.energy_j;
  }
  EXPECT_EQ(r.steps, 10u);
  EXPECT_NEAR(r.ttft.mean, pre.duration_s, 1e-6);
  EXPECT_NEAR(r.e2e.mean, t, 1e-6);
  EXPECT_NEAR(r.tpot.mean, (t - pre.duration_s) / 9, 1e-6);
  EXPECT_NEAR(r.energy_j, e, 1e-9 * e);
  EXPECT_DOUBLE_EQ(r.idle_energy_j, 0.0);
  EXPECT_NEAR(r.per_request[0].energy_j, e, 1e-5 * e);
  EXPECT_EQ(r.input_tokens, 100u);
  EXPECT_EQ(r.output_tokens, 10u);
  EXPECT_NEAR(r.request_flops, request_flops(c.model, 100, 10).total(), 1.0);
  EXPECT_NEAR(r.flops_ideal_energy_j, 700.0 / 989.4e12 * r.request_flops, 1e-9);
  EXPECT_LT(r.flops_ideal_energy_j, r.energy_j);
}

TEST(Simulator, IdleTimeIsChargedAtIdlePower) {
  const SimConfig c = config("a100-sxm", "vllm");
  const SimResult one = run(c, {{0.0, 50, 5}});
  const SimResult two = run(c, {{0.0, 50, 5}, {100.0, 50, 5}});
  ASSERT_EQ(two.completed, 2u);
  // The second request runs exactly like the first, 100 s later; the gap is idle.
  EXPECT_NEAR(two.active_energy_j, 2 * one.active_energy_j, 1e-6 * two.active_energy_j);
  EXPECT_NEAR(two.span_s, 100.0 + one.span_s, 1e-6);
  EXPECT_NEAR(two.idle_energy_j, 65.0 * (100.0 - one.span_s), 1e-6);
  EXPECT_NEAR(two.energy_j, two.active_energy_j + two.idle_energy_j, 1e-9);
  EXPECT_GT(two.idle_share, 0.9);
  EXPECT_LT(two.busy_share, 0.05);
  // The timeline holds all the energy.
  double sum = 0;
  for (const auto& b : two.timeline) sum += b.power_w * b.duration_s;
  EXPECT_NEAR(sum, two.energy_j, 1e-6 * two.energy_j);
  for (const auto& b : two.timeline) {
    EXPECT_GE(b.busy_share, 0.0);
    EXPECT_LE(b.busy_share, 1.0 + 1e-9);
  }
}

std::vector<TimedRequest> synthetic(std::size_t n, double rate, std::uint64_t seed = 3) {
  auto w = workload::find_default_workload("azure-conv-2023");
  EXPECT_TRUE(w.ok());
  workload::SynthesisOptions o;
  o.count = n;
  o.rate_rps = rate;
  std::mt19937_64 rng(seed);
  auto reqs = workload::synthesize(**w, o, rng);
  EXPECT_TRUE(reqs.ok());
  return *reqs;
}

TEST(Simulator, PerRequestEnergiesAddUpToTheActiveEnergy) {
  for (const char* stack : {"vllm", "hf-eager"}) {
    SimConfig c = config("h100-sxm", stack);
    c.max_batch = 16;
    const auto reqs = synthetic(400, 4.0);
    const SimResult r = run(c, reqs);
    ASSERT_EQ(r.completed, 400u) << stack;
    double sum = 0;
    for (const auto& o : r.per_request) sum += o.energy_j;
    EXPECT_NEAR(sum, r.active_energy_j, 1e-4 * r.active_energy_j) << stack;
    EXPECT_GE(r.energy_j, r.flops_ideal_energy_j) << stack;
  }
}

TEST(Simulator, ArrivalOrderOfTheInputDoesNotMatter) {
  const SimConfig c = config("a6000", "vllm");
  auto reqs = synthetic(300, 2.0);
  const SimResult a = run(c, reqs);
  std::mt19937_64 rng(9);
  std::vector<std::size_t> perm(reqs.size());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<TimedRequest> shuffled;
  for (auto i : perm) shuffled.push_back(reqs[i]);
  const SimResult b = run(c, shuffled);
  EXPECT_DOUBLE_EQ(a.energy_j, b.energy_j);
  EXPECT_DOUBLE_EQ(a.e2e.p99, b.e2e.p99);
  for (std::size_t k = 0; k < perm.size(); ++k) EXPECT_FLOAT_EQ(b.per_request[k].e2e_s, a.per_request[perm[k]].e2e_s);
}

TEST(Simulator, StaticBatchWaitsForItsLongestMember) {
  SimConfig c = config("h100-sxm", "hf-eager");
  c.max_batch = 2;
  const SimResult r = run(c, {{0.0, 100, 5}, {0.0, 20, 50}});
  ASSERT_EQ(r.completed, 2u);
  // Both come back when the 50-token member is done; the short one's tokens came earlier.
  EXPECT_FLOAT_EQ(r.per_request[0].e2e_s, r.per_request[1].e2e_s);
  EXPECT_LT(r.per_request[0].tpot_s * 4, r.per_request[1].tpot_s * 49);
  EXPECT_EQ(r.steps, 1u + 49u);  // one padded prefill, 49 decode steps
  // Padding: the prefill computes both prompts at 100 tokens.
  const StepModel m = step_model(c);
  StepShape pre = prefill_chunk(0, 100, true, LogitsMode::kLast);
  pre += prefill_chunk(0, 100, true, LogitsMode::kLast);
  EXPECT_NEAR(r.ttft.max, m.evaluate(pre).duration_s, 1e-6);
  EXPECT_GT(r.simulated_flops, 2 * request_flops(c.model, 100, 50).total() * 0.99);
}

TEST(Simulator, ContinuousBatchingLetsShortRequestsLeaveEarly) {
  const SimConfig c = config("h100-sxm", "vllm");
  const SimResult r = run(c, {{0.0, 100, 5}, {0.0, 20, 50}});
  EXPECT_LT(r.per_request[0].e2e_s * 3, r.per_request[1].e2e_s);
  SimConfig s = config("h100-sxm", "hf-eager");
  s.max_batch = 2;
  EXPECT_GT(run(s, {{0.0, 100, 5}, {0.0, 20, 50}}).per_request[0].e2e_s, 3 * r.per_request[0].e2e_s);
}

TEST(Simulator, ChunkedPrefillSplitsLongPromptsByTheTokenBudget) {
  SimConfig c = config("h100-sxm", "vllm");
  c.token_budget = 256;
  const SimResult r = run(c, {{0.0, 1000, 2}});
  EXPECT_EQ(r.steps, 4u + 1u);  // ceil(1000 / 256) prefill chunks, then one decode step
  // Without chunking the prompt goes in one step.
  c.chunked_prefill = false;
  EXPECT_EQ(run(c, {{0.0, 1000, 2}}).steps, 2u);
  // A decoding request keeps going while a long prompt is chunked next to it.
  SimConfig k = config("h100-sxm", "vllm");
  k.token_budget = 512;
  const SimResult mixed = run(k, {{0.0, 16, 200}, {0.05, 8000, 2}});
  SimConfig nk = k;
  nk.chunked_prefill = false;
  const SimResult stalled = run(nk, {{0.0, 16, 200}, {0.05, 8000, 2}});
  EXPECT_LT(mixed.per_request[0].e2e_s, stalled.per_request[0].e2e_s * 1.5);
  EXPECT_GT(mixed.per_request[1].ttft_s, stalled.per_request[1].ttft_s);  // chunks share steps
}

TEST(Simulator, FullKvCachePreemptsAndRecomputes) {
  // A GPU with little memory: Llama-3.2-1B (2.5 GB) leaves room for a few thousand tokens.
  hardware::HardwareProfile small = hw("l40s");
  small.memory_bytes = 3.3e9;
  SimConfig c = make_config(small, *find_stack("vllm"), model("Llama-3.2-1B"));
  c.max_batch = 64;
  std::vector<TimedRequest> reqs;
  for (int i = 0; i < 40; ++i) reqs.push_back({0.0, 200, 600});
  const SimResult r = run(c, reqs);
  EXPECT_GT(r.kv_capacity_tokens, 800.0);
  EXPECT_LT(r.kv_capacity_tokens, 40 * 800.0);
  EXPECT_EQ(r.completed, 40u);
  EXPECT_GT(r.preemptions, 0u);
  // Recomputation costs: more FLOPs than the requests need.
  EXPECT_GT(r.simulated_flops, r.request_flops);
  // A request that can never fit is rejected, not simulated.
  reqs.push_back({1.0, 100000, 10});
  const SimResult with_big = run(c, reqs);
  EXPECT_EQ(with_big.rejected, 1u);
  EXPECT_EQ(with_big.completed, 40u);
  EXPECT_TRUE(std::isnan(with_big.per_request.back().e2e_s));
}

TEST(Simulator, RequestsBeyondTheModelContextAreRejected) {
  const SimConfig c = config("h100-sxm", "vllm", "OLMo-1B");  // 2048 positions
  const SimResult r = run(c, {{0.0, 2000, 100}, {0.0, 100, 100}});
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_EQ(r.completed, 1u);
}

TEST(Simulator, ModelsThatDoNotFitAreAnError) {
  const SimConfig c = config("a6000", "vllm", "Llama-3.1-70B");  // 141 GB of bf16 weights
  auto r = simulate(c, std::vector<TimedRequest>{{0.0, 10, 10}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("does not fit"), std::string::npos);
  SimConfig tp4 = config("a100-sxm", "vllm", "Llama-3.1-70B");
  tp4.tp = 4;
  EXPECT_TRUE(simulate(tp4, std::vector<TimedRequest>{{0.0, 10, 10}}).ok());
}

TEST(Simulator, SpeculativeDecodingTakesFewerTargetSteps) {
  EXPECT_DOUBLE_EQ(expected_tokens_per_step(0, 0.7), 1.0);
  EXPECT_DOUBLE_EQ(expected_tokens_per_step(4, 1.0), 5.0);
  EXPECT_NEAR(expected_tokens_per_step(4, 0.7), (1 - std::pow(0.7, 5)) / 0.3, 1e-12);
  SimConfig c = config("h100-sxm", "vllm");
  c.decoding.spec_tokens = 4;
  c.decoding.spec_acceptance = 0.7;
  c.decoding.draft = model("Llama-3.2-1B");
  const SimResult r = run(c, {{0.0, 100, 101}});
  const double tau = expected_tokens_per_step(4, 0.7);  // 2.77 tokens per step
  EXPECT_EQ(r.steps, 1u + static_cast<std::uint64_t>(std::ceil(100 / tau)));
  // A draft with another tokenizer is refused.
  c.decoding.draft = model("OLMo-1B");
  EXPECT_FALSE(simulate(c, std::vector<TimedRequest>{{0.0, 10, 10}}).ok());
  c.decoding.draft = model("Llama-3.2-1B");
  c.decoding.beam_width = 2;
  auto both = simulate(c, std::vector<TimedRequest>{{0.0, 10, 10}});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, Errc::kUnsupported);
}

TEST(Simulator, BeamsCostMoreThanOneSequence) {
  SimConfig c = config("a100-sxm", "vllm");
  const SimResult greedy = run(c, {{0.0, 500, 100}});
  c.decoding.beam_width = 4;
  const SimResult beam = run(c, {{0.0, 500, 100}});
  EXPECT_GT(beam.energy_j, greedy.energy_j);
  EXPECT_GT(beam.simulated_flops, 3.5 * (greedy.simulated_flops - request_flops(c.model, 500, 1).total()));
  // HF expands the prompt to every beam and copies the beams' caches every step.
  SimConfig hf = config("a100-sxm", "hf-eager");
  const double hf1 = run(hf, {{0.0, 500, 100}}).energy_j;
  hf.decoding.beam_width = 4;
  EXPECT_GT(run(hf, {{0.0, 500, 100}}).energy_j / hf1, beam.energy_j / greedy.energy_j);
}

TEST(Simulator, ReplicasShareTheLoad) {
  const auto reqs = synthetic(600, 40.0);
  SimConfig one = config("a100-sxm", "vllm");
  SimConfig two = one;
  two.replicas = 2;
  const SimResult r1 = run(one, reqs), r2 = run(two, reqs);
  ASSERT_EQ(r2.completed, 600u);
  EXPECT_DOUBLE_EQ(r2.devices, 2.0);
  EXPECT_LT(r2.e2e.p50, r1.e2e.p50);
  EXPECT_LT(r2.mean_batch, r1.mean_batch);
  two.router = RouterPolicy::kRoundRobin;
  const SimResult rr = run(two, reqs);
  EXPECT_EQ(rr.completed, 600u);
  // Idle power of both replicas is paid over the whole span.
  EXPECT_GT(r2.idle_energy_j, r1.idle_energy_j);
}

TEST(Simulator, StopsAnOverloadedRunAtTheLimit) {
  SimConfig c = config("a6000", "hf-eager");
  c.max_batch = 4;
  const auto reqs = synthetic(2000, 20.0);  // far more than 4-request HF batches can serve
  c.stop_after_s = 300;
  const SimResult r = run(c, reqs);
  EXPECT_TRUE(r.truncated);
  EXPECT_LT(r.completed, 2000u);
  EXPECT_LT(r.span_s, 400.0);
  std::size_t done = 0;
  for (const auto& o : r.per_request) done += std::isnan(o.e2e_s) ? 0 : 1;
  EXPECT_EQ(done, r.completed);
  c.stop_after_s = 0;
  EXPECT_FALSE(run(c, synthetic(50, 0.1)).truncated);
}

TEST(Simulator, RejectsBadSchedulerSettings) {
  SimConfig c = config("h100-sxm", "vllm");
  c.max_batch = 0;
  EXPECT_EQ(simulate(c, std::vector<TimedRequest>{}).error().code, Errc::kInvalidArgument);
  c = config("h100-sxm", "vllm");
  c.memory_utilization = 1.5;
  EXPECT_FALSE(simulate(c, std::vector<TimedRequest>{}).ok());
  c = config("h100-sxm", "vllm");
  EXPECT_FALSE(simulate(c, std::vector<TimedRequest>{{-1.0, 10, 10}}).ok());
  const SimResult empty = run(config("h100-sxm", "vllm"), {});
  EXPECT_EQ(empty.completed, 0u);
  EXPECT_TRUE(empty.simulated);
}

TEST(SimulateBatch, ReportsWhetherTheBatchFits) {
  const SimConfig c = config("a6000", "vllm");
  auto ok = simulate_batch(c, 512, 128, 16);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->fits);
  EXPECT_EQ(ok->detail.completed, 16u);
  EXPECT_DOUBLE_EQ(ok->detail.idle_energy_j, 0.0);
  EXPECT_NEAR(ok->energy_per_request_j * 16, ok->energy_j, 1e-9);
  auto too_big = simulate_batch(c, 8192, 512, 1024);
  ASSERT_TRUE(too_big.ok());
  EXPECT_FALSE(too_big->fits);
  EXPECT_FALSE(simulate_batch(c, 0, 10, 1).ok());
}

}  // namespace
}  // namespace jouleperf::sim
