// Nodes of a sharded study that read differently (issue 18, docs/cluster.md "Nodes that
// disagree"): a node whose cells read 30 % high is flagged, nodes within the noise are
// not, and a node confounded with an axis of the grid is said to be not identifiable.
#include "jouleperf/report/node_agreement.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "jouleperf/report/html.hpp"
#include "jouleperf/report/tables.hpp"

namespace jouleperf::report {
namespace {

// Cells of config "a" over a 4 x 3 x 2 grid with energy 0.01 I^0.3 O^0.9 B^0.6 J times
// the node's factor and a deterministic +-2 % noise; cell p measured on node p % nodes
// (as `--shard p/nodes` deals them), or on the node of its batch size when by_batch.
ReportData grid_on_nodes(const std::vector<double>& factor, bool by_batch = false) {
  ReportData d;
  study::Config c;
  c.name = "a";
  d.configs = {c};
  std::size_t p = 0;
  for (std::uint64_t i : {128u, 256u, 512u, 1024u})
    for (std::uint64_t o : {32u, 64u, 128u})
      for (std::uint64_t b : {1u, 4u}) {
        const std::size_t node = by_batch ? (b == 1 ? 0 : 1) : p % factor.size();
        const double noise = 1.0 + 0.02 * std::sin(1.7 * static_cast<double>(p) + 0.3);
        study::CellResult r;
        r.key = {"a", i, o, b};
        study::Repetition rep;
        rep.energy_j = 0.01 * std::pow(i, 0.3) * std::pow(o, 0.9) * std::pow(b, 0.6) * factor[node] * noise;
        r.reps = {rep};
        r.energy_source = "counter";
        r.conditions = {{"hostname", "login-" + std::to_string(node)},
                        {"scheduler", {{"kind", "slurm"}, {"node", "gpu-" + std::to_string(node)}}}};
        d.cells.push_back(std::move(r));
        ++p;
      }
  return d;
}

const NodeEffect& effect_of(const std::vector<NodeEffect>& effects, const std::string& node) {
  for (const auto& e : effects)
    if (e.node == node) return e;
  ADD_FAILURE() << "no node " << node;
  return effects.front();
}

TEST(NodeAgreement, ANodeReadingThirtyPercentHighIsFlagged) {
  const auto data = grid_on_nodes({1.0, 1.3, 1.0});
  const auto effects = node_effects(data);
  ASSERT_EQ(effects.size(), 3u);
  EXPECT_TRUE(effects[0].reference);
  const auto& high = effect_of(effects, "gpu-1");  // the scheduler's node name, not the hostname
  EXPECT_EQ(high.verdict, "DISAGREES");
  ASSERT_TRUE(high.effect_pct && high.low_pct && high.high_pct);
  EXPECT_NEAR(*high.effect_pct, 30.0, 3.0);
  EXPECT_LT(*high.low_pct, 30.0);
  EXPECT_GT(*high.high_pct, 30.0);
  const auto& same = effect_of(effects, "gpu-2");
  EXPECT_EQ(same.verdict, "agrees");
  EXPECT_LT(*same.low_pct, 0.0);
  EXPECT_GT(*same.high_pct, 0.0);

  const auto lines = disagreement_lines(effects);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("config a: node gpu-1 reads +"), std::string::npos) << lines[0];

  // In the report: the nodes table, and the note on the HTML page.
  auto tables = report_tables(data);
  ASSERT_TRUE(tables) << tables.error().message;
  EXPECT_EQ(tables->back().name, "nodes");
  EXPECT_EQ(tables->back().rows.size(), 3u);
  auto html = html_report(data);
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_NE(html->find("data-node-disagrees=\"1\""), std::string::npos);
  EXPECT_NE(html->find("node gpu-1 reads"), std::string::npos);
}

TEST(NodeAgreement, NodesWithinTheNoiseAgreeAndOneNodeIsNoComparison) {
  // Three nodes (two would each get one batch size of the two: see the confounded case).
  const auto effects = node_effects(grid_on_nodes({1.0, 1.01, 0.995}));
  ASSERT_EQ(effects.size(), 3u);
  EXPECT_EQ(effects[1].verdict, "agrees");
  EXPECT_EQ(effects[2].verdict, "agrees");
  EXPECT_TRUE(node_effects(grid_on_nodes({1.0})).empty());
  auto tables = report_tables(grid_on_nodes({1.0}));
  ASSERT_TRUE(tables);
  EXPECT_NE(tables->back().name, "nodes");  // no table where every config ran on one node
}

TEST(NodeAgreement, ANodeConfoundedWithAnAxisIsNotIdentifiable) {
  // Node 1 measured every B = 4 cell and nothing else: its offset is the batch's slope.
  // (Two shards of this grid, whose last axis has two values, deal the cells just so.)
  const auto effects = node_effects(grid_on_nodes({1.0, 1.3}, /*by_batch=*/true));
  EXPECT_EQ(node_effects(grid_on_nodes({1.0, 1.3}))[1].verdict, effects[1].verdict);
  ASSERT_EQ(effects.size(), 2u);
  EXPECT_EQ(effects[1].verdict.rfind("not identifiable", 0), 0u) << effects[1].verdict;
  EXPECT_FALSE(effects[1].effect_pct);
}

}  // namespace
}  // namespace jouleperf::report
