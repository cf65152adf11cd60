// sim::run_optimize and its document: a small grid searched end to end, the grid-size
// limit, the baseline spec, and the tables and JSON the CLI prints.
#include "jouleperf/sim/optimize_run.hpp"

#include <gtest/gtest.h>

namespace jouleperf::sim {
namespace {

OptimizeSearchOptions small_search() {
  OptimizeSearchOptions o;
  o.hardware = {"a6000", "h100-sxm"};
  o.devices = {1};
  o.tp = {1};
  o.stacks = {"hf-eager", "vllm"};
  o.max_batch = {16};
  o.decoding = {"greedy"};
  o.precisions = {"bf16"};
  o.threads = 2;
  o.top = 2;
  return o;
}

WorkloadSource small_workload() {
  WorkloadSource w;
  w.workload = "azure-code-2023";
  w.count = 30;
  w.poisson_rps = 2.0;
  return w;
}

TEST(OptimizeRun, SearchesTheGridAndDocumentsIt) {
  auto r = run_optimize(small_search(), DeploymentOptions{}, small_workload());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->result.candidates.size(), 4u);
  ASSERT_TRUE(r->result.best.has_value());
  ASSERT_TRUE(r->result.baseline.has_value());
  EXPECT_EQ(r->model, "Llama-3.1-8B");
  EXPECT_NE(r->workload.find("azure-code-2023: 30 requests"), std::string::npos) << r->workload;
  const auto doc = optimize_document(*r);
  ASSERT_EQ(doc.tables.size(), 4u);
  EXPECT_EQ(doc.tables[0].name, "best");
  EXPECT_EQ(doc.tables[1].name, "pareto");
  EXPECT_EQ(doc.tables[2].name, "top");
  EXPECT_LE(doc.tables[2].rows.size(), 2u);
  EXPECT_EQ(doc.tables[3].name, "baseline");
  EXPECT_EQ(doc.json.at("candidates").size(), 4u);
  EXPECT_TRUE(doc.json.at("simulated").get<bool>());
  EXPECT_EQ(doc.json.at("best").at("label"), r->result.candidates[*r->result.best].label);
}

TEST(OptimizeRun, RefusesAGridOverTheLimitAndBadNames) {
  EXPECT_TRUE(check_search_size({10, 10}, 0).ok());  // 0: no limit
  EXPECT_TRUE(check_search_size({10, 10}, 100).ok());
  auto over = check_search_size({10, 11}, 100);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::kInvalidArgument);
  EXPECT_NE(over.error().message.find("--max-cells"), std::string::npos);
  auto o = small_search();
  o.max_cells = 3;
  EXPECT_FALSE(run_optimize(o, DeploymentOptions{}, small_workload()).ok());
  o = small_search();
  o.stacks = {"no-such-stack"};
  auto bad = run_optimize(o, DeploymentOptions{}, small_workload());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  o = small_search();
  o.baseline = "stack=vllm,colour=blue";
  bad = run_optimize(o, DeploymentOptions{}, small_workload());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown key 'colour'"), std::string::npos) << bad.error().message;
}

TEST(OptimizeRun, NoBaselineLeavesItsTableOut) {
  auto o = small_search();
  o.baseline = "none";
  auto r = run_optimize(o, DeploymentOptions{}, small_workload());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(r->result.baseline.has_value());
  const auto doc = optimize_document(*r);
  EXPECT_EQ(doc.tables.size(), 3u);
  EXPECT_TRUE(doc.json.at("baseline").is_null());
}

}  // namespace
}  // namespace jouleperf::sim
