// Do the nodes of a sharded study agree? (docs/cluster.md, "Nodes that disagree"). Each
// cell records where it was measured (conditions.scheduler.node, else hostname). For a
// configuration measured on two nodes or more, the log of each cell's energy per batch is
// fitted with the grid's axes and one offset per node:
//   ln E = b0 + b1 ln I + b2 ln O + b3 ln B + sum_h g_h [node = h]
// (an axis with one value drops out), by least squares; the node with the most cells is
// the reference (g = 0). A node's effect is exp(g_h) - 1 with its 95 % interval from the
// fit's residual variance (Student's t). A node whose interval excludes 0 and whose
// effect exceeds 5 % DISAGREES: its sensors, clocks or cooling read differently from the
// others'. Simulated and unmeasured cells take no part.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jouleperf/report/report_data.hpp"
#include "jouleperf/report/table.hpp"

namespace jouleperf::report {

struct NodeEffect {
  std::string config;
  std::string node;
  std::size_t cells = 0;
  bool reference = false;
  std::optional<double> effect_pct;         // exp(g) - 1, % (0 for the reference)
  std::optional<double> low_pct, high_pct;  // its 95 % interval, %
  // "reference", "agrees", "DISAGREES", or "not identifiable: <why>" (too few cells, or a
  // node whose cells share one value of an axis that no other node has).
  std::string verdict;
};

// Every configuration measured on two nodes or more, its nodes in order of cells (the
// reference first). Empty when every configuration ran on one node. Never fails.
std::vector<NodeEffect> node_effects(const ReportData& data);

// The table "nodes": config, node, cells, effect_pct, effect_low_pct, effect_high_pct,
// verdict.
Table nodes_table(const std::vector<NodeEffect>& effects);

// One line per node that DISAGREES ("config a: node n2 reads +31 % (95 % 24 % to 38 %)
// against n1"), for the report's notes.
std::vector<std::string> disagreement_lines(const std::vector<NodeEffect>& effects);

}  // namespace jouleperf::report
