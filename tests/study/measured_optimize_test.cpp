// The measured optimizer's planner, on the simulator only (no model is run): candidates
// from every combination, predicted energy summed as N / B * E_batch per bin, ranking,
// top-K selection with the baseline always included, bad inputs refused by name; the
// measurement plan covers exactly the occupied bins; the comparison ranks and agrees.
#include "jouleperf/study/measured_optimize.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "jouleperf/model/synth.hpp"
#include "jouleperf/sim/stack.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

constexpr const char* kCpu = "processor : 0\nmodel name : Test CPU\ncpu MHz : 3000.0\nflags : sse sse2 fma avx avx2\n";

std::string write_model(const testing::TempDir& dir, const std::string& name, WeightType type) {
  SynthConfig c;
  c.name = name;
  c.dim = 64;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = 2;
  c.ffn = 128;
  c.context_length = 512;
  c.type = type;
  c.vocab_path = default_vocab_path();
  const auto path = (dir.path() / (name + ".gguf")).string();
  auto w = write_synthetic_gguf(c, path);
  EXPECT_TRUE(w.ok()) << w.error().to_string();
  return path;
}

PlanDevice host_device() {
  PlanDevice d;
  auto cpu = hardware::parse_cpuinfo(kCpu, "fixture");
  EXPECT_TRUE(cpu.ok());
  d.cpu = *cpu;
  d.host.idle_w = 5;
  d.host.max_w = 25;
  d.host.power_basis = "test";
  auto stack = sim::find_stack("llamacpp-cpu");
  EXPECT_TRUE(stack.ok());
  d.stack = *stack;
  d.description = "fixture CPU + llamacpp-cpu";
  return d;
}

estimate::WorkloadBins workload() {
  estimate::WorkloadBins w;
  w.name = "unit";
  w.input_edges = {8, 32};
  w.output_edges = {4, 8};
  w.bins = {{8, 4, 0, 0, 10}, {32, 8, 8, 4, 3}, {32, 4, 8, 0, 0}};  // the last one is empty
  w.requests = w.offered = 13;
  return w;
}

struct Models {
  testing::TempDir dir;
  std::string f32, q8;
  Models() : f32(write_model(dir, "m-f32", WeightType::kF32)), q8(write_model(dir, "m-q8_0", WeightType::kQ8_0)) {}
};

CandidateSpace full_space(const Models& m) {
  CandidateSpace s;
  s.models = {m.f32, m.q8};
  s.threads = {1, 2};
  s.max_batch = {1, 4};
  s.batching = {"static", "continuous"};
  return s;
}

TEST(MeasuredOptimize, EveryCombinationIsPricedAndRanked) {
  Models m;
  PlanOptions o;
  o.top_k = 3;
  auto plan = plan_candidates(full_space(m), workload(), host_device(), o);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  ASSERT_EQ(plan->candidates.size(), 16u);  // 2 models x 2 threads x 2 batches x 2 modes
  EXPECT_EQ(plan->requests, 13u);
  std::set<std::string> names;
  for (const auto& c : plan->candidates) {
    names.insert(c.config.name);
    EXPECT_EQ(c.config.engine, "llamacpp");
    ASSERT_TRUE(c.feasible) << c.config.name << ": " << c.why;
    ASSERT_EQ(c.bins.size(), 2u) << "the empty bin is not priced";
    // The total is the paper's sum over bins of N / B * E_batch.
    double sum = 0;
    for (const auto& b : c.bins) {
      EXPECT_GT(b.energy_batch_j, 0);
      EXPECT_EQ(std::to_string(b.batch), *c.config.setting("batches"));
      sum += static_cast<double>(b.requests) / static_cast<double>(b.batch) * b.energy_batch_j;
    }
    EXPECT_DOUBLE_EQ(c.predicted_energy_j, sum);
    EXPECT_GT(c.predicted_e2e_p99_s, 0);
    EXPECT_LE(c.predicted_e2e_mean_s, c.predicted_e2e_p99_s + 1e-12);
  }
  EXPECT_EQ(names.size(), 16u) << "names are unique";
  EXPECT_TRUE(names.count("m-q8_0-t2-b4-continuous"));
  EXPECT_EQ(plan->candidates[0].weight_type, "f32");
  EXPECT_EQ(plan->candidates[8].weight_type, "q8_0");

  // Ranks follow predicted energy.
  for (const auto& a : plan->candidates)
    for (const auto& b : plan->candidates)
      if (*a.predicted_rank < *b.predicted_rank) {
        EXPECT_LE(a.predicted_energy_j, b.predicted_energy_j);
      }

  // Fewer bytes per weight and a larger batch each predict less energy.
  auto energy = [&](const std::string& name) {
    for (const auto& c : plan->candidates)
      if (c.config.name == name) return c.predicted_energy_j;
    ADD_FAILURE() << name;
    return 0.0;
  };
  EXPECT_LT(energy("m-q8_0-t1-b1-static"), energy("m-f32-t1-b1-static"));
  EXPECT_LT(energy("m-f32-t1-b4-static"), energy("m-f32-t1-b1-static"));
}

TEST(MeasuredOptimize, TopKPlusTheBaselineAreSelected) {
  Models m;
  PlanOptions o;
  o.top_k = 3;
  auto plan = plan_candidates(full_space(m), workload(), host_device(), o);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  ASSERT_EQ(plan->selected.size(), 4u);
  const auto& base = plan->candidates[plan->baseline];
  EXPECT_EQ(base.config.name, "m-f32-t1-b1-static");
  EXPECT_TRUE(base.config.baseline);
  EXPECT_EQ(plan->selected.back(), plan->baseline);
  std::size_t baselines = 0;
  for (const auto& c : plan->candidates) baselines += c.config.baseline ? 1 : 0;
  EXPECT_EQ(baselines, 1u);
  // The K selected besides the baseline are the K cheapest of the others.
  double worst_selected = 0;
  for (std::size_t k = 0; k + 1 < plan->selected.size(); ++k) {
    EXPECT_NE(plan->selected[k], plan->baseline);
    EXPECT_TRUE(plan->candidates[plan->selected[k]].selected);
    worst_selected = std::max(worst_selected, plan->candidates[plan->selected[k]].predicted_energy_j);
  }
  for (std::size_t k = 0; k < plan->candidates.size(); ++k) {
    if (plan->candidates[k].selected) continue;
    EXPECT_GE(plan->candidates[k].predicted_energy_j, worst_selected) << plan->candidates[k].config.name;
  }

  // K past the number of candidates: every one is measured, the baseline once.
  o.top_k = 100;
  auto all = plan_candidates(full_space(m), workload(), host_device(), o);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->selected.size(), 16u);
}

TEST(MeasuredOptimize, BaselineOutsideTheGridIsAddedAndANamedOneIsUsed) {
  Models m;
  CandidateSpace s = full_space(m);
  s.max_batch = {4};
  s.threads = {2};
  PlanOptions o;
  o.top_k = 2;
  auto plan = plan_candidates(s, workload(), host_device(), o);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  ASSERT_EQ(plan->candidates.size(), 5u);  // 4 + the default baseline
  EXPECT_EQ(plan->candidates.back().config.name, "m-f32-t1-b1-static");
  EXPECT_EQ(plan->baseline, 4u);
  EXPECT_EQ(plan->selected.size(), 3u);

  o.baseline = "m-q8_0-t2-b4-static";
  auto named = plan_candidates(s, workload(), host_device(), o);
  ASSERT_TRUE(named.ok()) << named.error().to_string();
  EXPECT_EQ(named->candidates.size(), 4u);
  EXPECT_EQ(named->candidates[named->baseline].config.name, "m-q8_0-t2-b4-static");
  EXPECT_EQ(named->selected.size(), 3u);

  o.baseline = "nope";
  auto bad = plan_candidates(s, workload(), host_device(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("nope"), std::string::npos);
}

TEST(MeasuredOptimize, LatencySloLeavesOnlyTheBaseline) {
  Models m;
  PlanOptions o;
  o.top_k = 2;
  o.slo_e2e_s = 1e-12;
  auto plan = plan_candidates(full_space(m), workload(), host_device(), o);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  for (const auto& c : plan->candidates) {
    EXPECT_FALSE(c.feasible);
    EXPECT_NE(c.why.find("SLO"), std::string::npos) << c.why;
  }
  ASSERT_EQ(plan->selected.size(), 1u) << "the baseline is measured even when it misses the SLO";
  EXPECT_EQ(plan->selected[0], plan->baseline);
}

TEST(MeasuredOptimize, BinsPastTheContextLengthMakeACandidateInfeasible) {
  Models m;  // context length 512
  estimate::WorkloadBins w = workload();
  w.bins.push_back({512, 8, 32, 4, 2});
  PlanOptions o;
  o.top_k = 2;
  auto plan = plan_candidates(full_space(m), w, host_device(), o);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  for (const auto& c : plan->candidates) {
    EXPECT_FALSE(c.feasible);
    EXPECT_NE(c.why.find("context length 512"), std::string::npos) << c.why;
  }
  EXPECT_EQ(plan->selected.size(), 1u);
}

TEST(MeasuredOptimize, BadInputsAreRefusedByName) {
  Models m;
  PlanOptions o;
  CandidateSpace s = full_space(m);
  s.models.clear();
  auto none = plan_candidates(s, workload(), host_device(), o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kInvalidArgument);

  o.top_k = 0;
  auto k0 = plan_candidates(full_space(m), workload(), host_device(), o);
  ASSERT_FALSE(k0.ok());
  EXPECT_NE(k0.error().message.find("top K"), std::string::npos);
  o.top_k = 1;

  s = full_space(m);
  const std::string missing = (m.dir.path() / "absent.gguf").string();
  s.models.push_back(missing);
  auto gone = plan_candidates(s, workload(), host_device(), o);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::kNotFound);
  EXPECT_NE(gone.error().message.find(missing), std::string::npos) << gone.error().message;

  s = full_space(m);
  s.models = {m.dir.write("junk.gguf", "not a gguf").string()};
  auto junk = plan_candidates(s, workload(), host_device(), o);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().message.find("junk.gguf"), std::string::npos) << junk.error().message;

  s = full_space(m);
  s.threads = {0};
  EXPECT_FALSE(plan_candidates(s, workload(), host_device(), o).ok());
  s = full_space(m);
  s.max_batch = {0};
  EXPECT_FALSE(plan_candidates(s, workload(), host_device(), o).ok());
  s = full_space(m);
  s.batching = {"dynamic"};
  auto mode = plan_candidates(s, workload(), host_device(), o);
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(mode.error().message.find("dynamic"), std::string::npos);

  estimate::WorkloadBins empty = workload();
  for (auto& b : empty.bins) b.requests = 0;
  EXPECT_FALSE(plan_candidates(full_space(m), empty, host_device(), o).ok());
}

TEST(MeasuredOptimize, MeasurementPlanCoversExactlyTheOccupiedBins) {
  Models m;
  PlanOptions o;
  o.top_k = 2;
  auto plan = plan_candidates(full_space(m), workload(), host_device(), o);
  ASSERT_TRUE(plan.ok());
  auto mp = measurement_plan(*plan, workload(), 1, 2);
  ASSERT_EQ(mp.study.configs.size(), 3u);
  EXPECT_TRUE(mp.study.configs.back().baseline);
  EXPECT_EQ(mp.study.repetitions, 2u);
  ASSERT_TRUE(mp.study.warmup.fixed.has_value());
  EXPECT_EQ(*mp.study.warmup.fixed, 1u);
  EXPECT_TRUE(validate_study(mp.study).ok());
  // 3 configs x 2 occupied bins, each config at its own batch size.
  ASSERT_EQ(mp.cells.size(), 6u);
  for (const auto& cell : mp.cells) {
    const bool occupied = (cell.key.input_tokens == 8 && cell.key.output_tokens == 4) ||
                          (cell.key.input_tokens == 32 && cell.key.output_tokens == 8);
    EXPECT_TRUE(occupied) << to_string(cell.key);
    EXPECT_EQ(std::to_string(cell.key.batch), *mp.study.configs[cell.config_index].setting("batches"));
  }
  EXPECT_EQ(estimate_inputs(*plan).size(), 3u);
}

estimate::ConfigReport report(const std::string& name, double energy_j) {
  estimate::ConfigReport r;
  r.estimate.config = name;
  r.estimate.paper.value_j = energy_j;
  r.estimate.paper.lo_j = energy_j * 0.9;
  r.estimate.paper.hi_j = energy_j * 1.1;
  r.estimate.energy_source = "cpu-time-model";
  r.estimate.estimated = true;
  return r;
}

TEST(MeasuredOptimize, ComparisonRanksAndSavings) {
  Models m;
  PlanOptions o;
  o.top_k = 2;
  CandidateSpace s = full_space(m);
  s.batching = {"static"};  // static and continuous may predict the same energy: no ties here
  auto plan = plan_candidates(s, workload(), host_device(), o);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->selected.size(), 3u);
  ASSERT_LT(plan->candidates[plan->selected[0]].predicted_energy_j,
            plan->candidates[plan->selected[1]].predicted_energy_j);
  ASSERT_LT(plan->candidates[plan->selected[1]].predicted_energy_j,
            plan->candidates[plan->baseline].predicted_energy_j);
  const auto& p0 = plan->candidates[plan->selected[0]].config.name;  // predicted cheapest
  const auto& p1 = plan->candidates[plan->selected[1]].config.name;
  const auto& base = plan->candidates[plan->baseline].config.name;
  // Measured: the second prediction is cheapest; the baseline dearest.
  estimate::WorkloadEstimate w;
  w.configs = {report(p0, 30), report(p1, 20), report(base, 100)};
  auto c = compare_with_measurement(*plan, w);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->configs.size(), 3u);
  EXPECT_EQ(c->measured_best, p1);
  EXPECT_EQ(c->predicted_best, p0);
  EXPECT_FALSE(c->predicted_best_is_measured_best);
  ASSERT_TRUE(c->best_saving_pct.has_value());
  EXPECT_NEAR(*c->best_saving_pct, 80.0, 1e-9);
  EXPECT_EQ(c->configs[0].measured_rank, 2u);
  EXPECT_EQ(c->configs[1].measured_rank, 1u);
  EXPECT_EQ(c->configs[2].measured_rank, 3u);
  EXPECT_EQ(c->configs[2].saving_pct, 0.0);
  ASSERT_TRUE(c->spearman.has_value());
  EXPECT_NEAR(*c->spearman, 0.5, 1e-9);  // ranks (1,2,3) vs (2,1,3)
  const auto j = to_json(*c);
  EXPECT_EQ(j["configs"][0]["measured"]["label"], "ESTIMATED");
  EXPECT_EQ(j["configs"][0]["predicted"]["source"], "simulated");

  // A refused config has no measured energy and no rank.
  estimate::WorkloadEstimate r;
  r.configs = {report(p0, 30), report(base, 100)};
  r.refused = {{p1, "no cells"}};
  auto cr = compare_with_measurement(*plan, r);
  ASSERT_TRUE(cr.ok());
  EXPECT_EQ(cr->configs[1].refused, "no cells");
  EXPECT_FALSE(cr->configs[1].measured_rank.has_value());
  EXPECT_TRUE(cr->predicted_best_is_measured_best);

  // A config the plan did not select.
  estimate::WorkloadEstimate x;
  x.configs = {report("stranger", 1)};
  EXPECT_FALSE(compare_with_measurement(*plan, x).ok());
}

TEST(MeasuredOptimize, SpearmanOnKnownSamples) {
  EXPECT_NEAR(*spearman_rho({1, 2, 3}, {10, 20, 30}), 1.0, 1e-12);
  EXPECT_NEAR(*spearman_rho({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  EXPECT_NEAR(*spearman_rho({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
  EXPECT_FALSE(spearman_rho({1}, {1}).has_value());
  EXPECT_FALSE(spearman_rho({1, 2}, {5, 5}).has_value());
  EXPECT_FALSE(spearman_rho({1, 2}, {1, 2, 3}).has_value());
}

}  // namespace
}  // namespace jouleperf::study
