// The workload estimate validated where measurement noise is zero: the whole embedded
// Azure conversation and code workloads (2023) on the paper's bin edges, estimated from
// sim-engine cells at the edges (A6000, Llama-3.1-8B, hf-eager and vllm stacks) and
// compared with a full simulated run of every request at its real lengths, in static
// batches of the estimate's B per bin. Deterministic, so the corrected estimate's error
// bound is asserted; only relative errors and signs are, never a simulator constant.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "jouleperf/estimate/workload_bins.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/stack.hpp"
#include "jouleperf/study/full_validation.hpp"
#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/default_workloads.hpp"

namespace jouleperf::study {
namespace {

struct Case {
  const char* workload;
  const char* stack;
};

std::vector<std::uint64_t> pow2(std::uint64_t lo, std::uint64_t hi) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t x = lo; x <= hi; x *= 2) v.push_back(x);
  return v;
}

class SimValidation : public ::testing::TestWithParam<Case> {};

TEST_P(SimValidation, CorrectedEstimateWithinFivePercentOfTheFullRun) {
  const Case c = GetParam();
  auto w = workload::find_default_workload(c.workload);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  const auto lengths = estimate::lengths_from_default(**w);
  workload::BinningOptions bo;
  bo.input_edges = pow2(32, 8192);  // the paper's edges
  bo.output_edges = pow2(8, 512);
  auto bins = estimate::bin_lengths(lengths, bo, c.workload, std::string("embedded:") + c.workload);
  ASSERT_TRUE(bins.ok()) << bins.error().to_string();
  ASSERT_GT(bins->requests, 5000u);  // the whole workload, not a subset

  hardware::HardwareRegistry registry;
  auto hw = registry.find("a6000");
  ASSERT_TRUE(hw.ok());
  auto stack = sim::find_stack(c.stack);
  ASSERT_TRUE(stack.ok());
  auto arch = find_builtin_arch("Llama-3.1-8B");
  ASSERT_TRUE(arch.ok());
  const sim::SimConfig config = sim::make_config(*hw, *stack, info_from_arch(*arch));

  FullValidationOptions o;
  o.config = std::string("a6000-") + c.stack;
  o.estimate.max_batch = 64;
  o.order = BatchOrder::kShuffled;  // the generated lengths are sorted inside a bin
  o.seed = 1;
  const std::vector<std::uint64_t> batches = pow2(1, 64);
  auto v = validate_on_simulator(config, *bins, lengths, batches, o);
  ASSERT_TRUE(v.ok()) << v.error().to_string();

  // Every binned request ran, in static batches of its bin's B, the last ones partial.
  EXPECT_EQ(v->requests, bins->requests);
  EXPECT_GT(v->partial_batches, 0u);
  EXPECT_GT(v->batches, v->requests / 64);
  EXPECT_EQ(v->energy_source, "simulated");
  EXPECT_LT(v->real_input_tokens, v->binned_input_tokens);
  EXPECT_LT(v->real_output_tokens, v->binned_output_tokens);
  EXPECT_EQ(v->estimate.composed_fallback_bins, 0u);

  const double paper = v->error_pct(v->paper_j);
  const double per_request = v->error_pct(v->per_request_j);
  const double corrected = v->error_pct(v->corrected_j);
  RecordProperty("paper_error_pct", std::to_string(paper));
  RecordProperty("per_request_error_pct", std::to_string(per_request));
  RecordProperty("corrected_error_pct", std::to_string(corrected));

  // The target: the corrected estimate within 5 % of the full run.
  EXPECT_LT(std::abs(corrected), 5.0) << "paper " << paper << " %, per request " << per_request << " %";
  // The paper's error, reported; sanity only: same order of magnitude as the run.
  EXPECT_GT(v->paper_j, 0.5 * v->run_j);
  EXPECT_LT(v->paper_j, 3.0 * v->run_j);
  // Its causes, signed: ceilings over-count tokens; batches running to their longest
  // member and partial batches cost more than the per-request and N/B pricing say.
  EXPECT_GT(v->ceilings_pct(), 0.0);
  EXPECT_LT(v->composition_pct(), 0.0);
  EXPECT_LT(v->partial_pct(), 0.0);
  EXPECT_NEAR(v->ceilings_pct() + v->composition_pct() + v->partial_pct() + v->rest_pct(), paper, 1e-9);
  // Pricing each request alone misses the batch composition by more than the target.
  EXPECT_LT(v->per_request_j, v->corrected_j);
}

INSTANTIATE_TEST_SUITE_P(AzureOnA6000, SimValidation,
                         ::testing::Values(Case{"azure-conv-2023", "hf-eager"}, Case{"azure-conv-2023", "vllm"},
                                           Case{"azure-code-2023", "hf-eager"}, Case{"azure-code-2023", "vllm"}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = std::string(i.param.workload) + "_" + i.param.stack;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(SimValidationRunner, RefusesABatchThatDoesNotFit) {
  hardware::HardwareRegistry registry;
  auto hw = registry.find("a6000");
  ASSERT_TRUE(hw.ok());
  auto arch = find_builtin_arch("Llama-3.1-8B");
  ASSERT_TRUE(arch.ok());
  const sim::SimConfig config = sim::make_config(*hw, *sim::find_stack("hf-eager"), info_from_arch(*arch));
  auto runner = make_sim_batch_runner(config);
  const std::vector<std::uint32_t> in(64, 16000), out(64, 512);
  auto r = runner->run(in, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  const std::vector<std::uint32_t> one_in = {100}, one_out = {10};
  auto ok = runner->run(one_in, one_out);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_GT(*ok, 0.0);
  EXPECT_FALSE(runner->run(one_in, out).ok());  // arrays of different sizes
}

// A runner that records the batches it is given and prices them at the longest member.
class RecordingRunner final : public StaticBatchRunner {
 public:
  Result<double> run(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs) override {
    sizes.push_back(inputs.size());
    const double max_in = *std::max_element(inputs.begin(), inputs.end());
    const double max_out = *std::max_element(outputs.begin(), outputs.end());
    for (auto i : inputs) seen_inputs.push_back(i);
    return static_cast<double>(inputs.size()) + max_in + max_out;
  }
  std::string energy_source() const override { return "fake"; }
  std::vector<std::size_t> sizes;
  std::vector<std::uint32_t> seen_inputs;
};

CellResult fake_cell(std::uint64_t i, std::uint64_t o, std::uint64_t b) {
  CellResult c;
  c.key = {"c", i, o, b};
  Repetition r;
  r.energy_j = static_cast<double>(b + i + o);  // the runner's price at the ceilings
  c.reps.push_back(r);
  c.energy_source = "fake";
  return c;
}

TEST(FullValidation, RunsEveryRequestOnceInBatchesOfTheBinsB) {
  // Bin (0, 32] x (0, 8]: 5 requests; bin (32, 128] x (0, 8]: 2 requests. Cells at B = 1, 2.
  const estimate::RequestLengths lengths{{10, 100, 20, 30, 128, 32, 5}, {8, 8, 4, 2, 8, 8, 1}};
  workload::BinningOptions bo;
  bo.input_edges = {32, 128};
  bo.output_edges = {8};
  auto bins = estimate::bin_lengths(lengths, bo, "hand", "test");
  ASSERT_TRUE(bins.ok());
  std::vector<CellResult> cells;
  for (std::uint64_t i : {32, 128})
    for (std::uint64_t b : {1, 2}) cells.push_back(fake_cell(i, 8, b));
  FullValidationOptions o;
  o.config = "c";
  o.order = BatchOrder::kAsGiven;
  RecordingRunner runner;
  auto v = validate_full_run(runner, *bins, lengths, cells, o);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  // B = 2 in both bins: 2 + 2 + 1, then 2.
  EXPECT_EQ(runner.sizes, (std::vector<std::size_t>{2, 2, 1, 2}));
  EXPECT_EQ(runner.seen_inputs, (std::vector<std::uint32_t>{10, 20, 30, 32, 5, 100, 128}));
  EXPECT_EQ(v->requests, 7u);
  EXPECT_EQ(v->batches, 4u);
  EXPECT_EQ(v->partial_batches, 1u);
  EXPECT_EQ(v->energy_source, "fake");
  // (2 + 20 + 8) + (2 + 32 + 8) + (1 + 5 + 1) + (2 + 128 + 8)
  EXPECT_DOUBLE_EQ(v->run_j, 30.0 + 42.0 + 7.0 + 138.0);
  EXPECT_DOUBLE_EQ(v->paper_j, 5.0 / 2.0 * 42.0 + 2.0 / 2.0 * 138.0);
  const auto j = to_json(*v);
  for (const char* k : {"run_energy_j", "paper_error_pct", "per_request_error_pct", "corrected_error_pct",
                        "error_sources", "tokens", "estimate_counts"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_NEAR(j["error_sources"]["ceilings_pct"].get<double>() + j["error_sources"]["composition_pct"].get<double>() +
                  j["error_sources"]["partial_batches_pct"].get<double>() +
                  j["error_sources"]["rest_pct"].get<double>(),
              j["paper_error_pct"].get<double>(), 1e-9);
  // A runner's failure names the bin.
  class Failing final : public StaticBatchRunner {
   public:
    Result<double> run(std::span<const std::uint32_t>, std::span<const std::uint32_t>) override {
      return make_error(Errc::kUnsupported, "does not fit");
    }
    std::string energy_source() const override { return "x"; }
  } failing;
  auto f = validate_full_run(failing, *bins, lengths, cells, o);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, Errc::kUnsupported);
  EXPECT_NE(f.error().message.find("I*=32 O*=8"), std::string::npos) << f.error().message;
}

TEST(SimValidationRunner, ParsesBatchOrder) {
  EXPECT_EQ(*parse_batch_order("trace"), BatchOrder::kAsGiven);
  EXPECT_EQ(*parse_batch_order("shuffle"), BatchOrder::kShuffled);
  EXPECT_FALSE(parse_batch_order("random").ok());
}

}  // namespace
}  // namespace jouleperf::study
