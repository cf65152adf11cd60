// The optimizer: grid expansion, the minimum-energy feasible configuration, the Pareto
// front, SLO filtering, savings against a baseline, reuse of identical runs, threads.
#include "jouleperf/sim/optimize.hpp"

#include <gtest/gtest.h>

#include <random>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::sim {
namespace {

ModelInfo model(const char* name) { return info_from_arch(*find_builtin_arch(name)); }

SearchSpace space(std::initializer_list<const char*> hw) {
  hardware::HardwareRegistry r;
  SearchSpace s;
  for (const char* h : hw) s.hardware.push_back(*r.find(h));
  for (const char* st : {"hf-eager", "vllm"}) s.stacks.push_back(*find_stack(st));
  s.devices = {1, 2};
  s.tp = {1, 2};
  s.max_batch = {8, 64, 256};
  DecodingChoice spec{"spec4", {}};
  spec.decoding.spec_tokens = 4;
  spec.decoding.spec_acceptance = 0.7;
  spec.decoding.draft = model("Llama-3.2-1B");
  s.decoding = {DecodingChoice{}, spec};
  s.precisions = {WeightPrecision::kBf16, WeightPrecision::kFp8};
  return s;
}

SimConfig base() {
  hardware::HardwareRegistry r;
  return make_config(*r.find("h100-sxm"), *find_stack("vllm"), model("Llama-3.1-8B"));
}

std::vector<workload::TimedRequest> conv(std::size_t n, double rate) {
  workload::SynthesisOptions o;
  o.count = n;
  o.rate_rps = rate;
  std::mt19937_64 rng(5);
  return *workload::synthesize(**workload::find_default_workload("azure-conv-2023"), o, rng);
}

TEST(Optimize, ExpandsTheGridAndSkipsImpossibleCombinations) {
  SearchSpace s = space({"a6000", "h100-sxm"});
  s.stacks.push_back(*find_stack("llamacpp-cpu"));  // CPU stack: no GPU combination
  const auto grid = expand(s, base());
  // 2 GPUs x (1 device tp1; 2 devices tp1 or tp2) x 2 GPU stacks x 3 batch caps x 2 decodings x 2 precisions.
  EXPECT_EQ(grid.size(), 2u * 3 * 2 * 3 * 2 * 2);
  for (const auto& c : grid) {
    EXPECT_EQ(c.tp * c.replicas == 1 || c.tp * c.replicas == 2, true);
    EXPECT_NE(c.stack.name, "llamacpp-cpu");
    EXPECT_EQ(c.batching, c.stack.batching);  // no batching list: each stack's own
  }
  s.tp = {3};
  EXPECT_TRUE(expand(s, base()).empty());
  EXPECT_FALSE(optimize({}, conv(10, 1), Slo{}, std::nullopt, 1).ok());
}

TEST(Optimize, FindsTheCheapestFeasibleConfigurationAndTheFront) {
  const auto grid = expand(space({"a100-sxm", "h100-sxm"}), base());
  const auto reqs = conv(600, 3.0);
  Slo slo;
  slo.e2e_p99_s = 20.0;
  slo.tpot_p99_s = 0.08;
  SimConfig baseline = base();
  baseline.stack = *find_stack("hf-eager");
  baseline.batching = Batching::kStatic;
  baseline.max_batch = 8;
  auto r = optimize(grid, reqs, slo, baseline, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->simulated);
  EXPECT_EQ(r->candidates.size(), grid.size());
  ASSERT_TRUE(r->best.has_value());
  const Evaluated& best = r->candidates[*r->best];
  EXPECT_TRUE(best.feasible);
  EXPECT_LE(best.e2e_p99_s, 20.0);
  std::size_t fp8_on_ampere = 0;
  for (const auto& e : r->candidates) {
    if (e.feasible) {
      EXPECT_GE(e.energy_j, best.energy_j) << e.label;
    } else {
      EXPECT_FALSE(e.why.empty()) << e.label;
    }
    if (e.config.hardware.name == "a100-sxm" && e.config.precision == WeightPrecision::kFp8) {
      ++fp8_on_ampere;
      EXPECT_FALSE(e.ran);  // no FP8 units: refused by the simulator
    }
  }
  EXPECT_GT(fp8_on_ampere, 0u);
  // The front: increasing energy, strictly decreasing latency, nothing feasible dominates it.
  ASSERT_FALSE(r->pareto.empty());
  EXPECT_EQ(r->pareto.front(), *r->best);
  for (std::size_t k = 1; k < r->pareto.size(); ++k) {
    EXPECT_GE(r->candidates[r->pareto[k]].energy_j, r->candidates[r->pareto[k - 1]].energy_j);
    EXPECT_LT(r->candidates[r->pareto[k]].e2e_p99_s, r->candidates[r->pareto[k - 1]].e2e_p99_s);
  }
  for (std::size_t p : r->pareto) {
    for (const auto& e : r->candidates) {
      if (!e.feasible) continue;
      EXPECT_FALSE(e.energy_j < r->candidates[p].energy_j && e.e2e_p99_s < r->candidates[p].e2e_p99_s)
          << e.label << " dominates " << r->candidates[p].label;
    }
  }
  // Against the HF baseline, the best saves energy per request.
  ASSERT_TRUE(r->baseline.has_value());
  EXPECT_TRUE(r->baseline->ran);
  EXPECT_GT(r->savings_vs_baseline, 0.3);
  EXPECT_NEAR(r->savings_vs_baseline, 1 - best.energy_per_request_j / r->baseline->energy_per_request_j, 1e-12);
  // A tighter SLO leaves fewer feasible configurations and a costlier best.
  Slo tight = slo;
  tight.e2e_p99_s = 4.0;
  auto t = optimize(grid, reqs, tight, std::nullopt, 2);
  ASSERT_TRUE(t.ok());
  EXPECT_LT(t->feasible, r->feasible);
  if (t->best) {
    EXPECT_GE(t->candidates[*t->best].energy_j, best.energy_j);
  }
}

TEST(Optimize, ReusedOutcomesEqualTheirOwnSimulation) {
  const auto grid = expand(space({"h100-sxm"}), base());
  const auto reqs = conv(300, 1.0);
  auto r = optimize(grid, reqs, Slo{}, std::nullopt, 1);
  ASSERT_TRUE(r.ok());
  std::size_t reused = 0;
  for (const auto& e : r->candidates) {
    if (!e.reused) continue;
    ++reused;
    SimConfig c = e.config;
    c.stop_after_s = 0;
    auto direct = simulate(c, reqs);
    ASSERT_TRUE(direct.ok());
    EXPECT_DOUBLE_EQ(direct->energy_j, e.energy_j) << e.label;
    EXPECT_DOUBLE_EQ(direct->e2e.p99, e.e2e_p99_s) << e.label;
  }
  EXPECT_GT(reused, 0u);
  EXPECT_EQ(r->simulated_runs + reused, r->candidates.size());
  // Threads do not change the answer.
  auto two = optimize(grid, reqs, Slo{}, std::nullopt, 2);
  ASSERT_TRUE(two.ok());
  for (std::size_t i = 0; i < grid.size(); ++i)
    EXPECT_DOUBLE_EQ(two->candidates[i].energy_j, r->candidates[i].energy_j) << r->candidates[i].label;
}

}  // namespace
}  // namespace jouleperf::sim
