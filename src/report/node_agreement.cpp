#include "jouleperf/report/node_agreement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace jouleperf::report {

namespace {

constexpr double kDisagreePct = 5.0;

std::string node_of(const study::CellResult& c) {
  const auto sched = c.conditions.find("scheduler");
  if (sched != c.conditions.end() && sched->is_object()) {
    const auto n = sched->find("node");
    if (n != sched->end() && n->is_string() && !n->get<std::string>().empty()) return n->get<std::string>();
  }
  const auto h = c.conditions.find("hostname");
  return h != c.conditions.end() && h->is_string() ? h->get<std::string>() : std::string();
}

struct Point {
  double y = 0.0;
  std::vector<double> x;  // the axes' logs
  std::size_t node = 0;   // index into the config's nodes
};

// Inverts the symmetric matrix `a` (n x n, row-major) in place by Gauss-Jordan with
// partial pivoting; false when it is singular (relative pivot below 1e-10).
bool invert(std::vector<double>& a, std::size_t n) {
  std::vector<double> inv(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) inv[i * n + i] = 1.0;
  double scale = 0.0;
  for (double v : a) scale = std::max(scale, std::abs(v));
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t piv = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::abs(a[r * n + col]) > std::abs(a[piv * n + col])) piv = r;
    if (!(std::abs(a[piv * n + col]) > 1e-10 * scale)) return false;
    for (std::size_t k = 0; k < n; ++k) {
      std::swap(a[col * n + k], a[piv * n + k]);
      std::swap(inv[col * n + k], inv[piv * n + k]);
    }
    const double p = a[col * n + col];
    for (std::size_t k = 0; k < n; ++k) {
      a[col * n + k] /= p;
      inv[col * n + k] /= p;
    }
    for (std::size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r * n + col];
      if (f == 0.0) continue;
      for (std::size_t k = 0; k < n; ++k) {
        a[r * n + k] -= f * a[col * n + k];
        inv[r * n + k] -= f * inv[col * n + k];
      }
    }
  }
  a = std::move(inv);
  return true;
}

// Fits one configuration's points (nodes[0] the reference) and fills the effects.
void fit(const std::vector<Point>& pts, std::vector<NodeEffect>& nodes) {
  const std::size_t axes = pts.front().x.size(), extra = nodes.size() - 1, p = 1 + axes + extra;
  auto not_identifiable = [&](const std::string& why) {
    for (std::size_t h = 1; h < nodes.size(); ++h) nodes[h].verdict = "not identifiable: " + why;
  };
  if (pts.size() <= p) return not_identifiable(fmt::format("{} cells for {} parameters", pts.size(), p));
  auto row = [&](const Point& pt) {
    std::vector<double> r(p, 0.0);
    r[0] = 1.0;
    for (std::size_t k = 0; k < axes; ++k) r[1 + k] = pt.x[k];
    if (pt.node > 0) r[axes + pt.node] = 1.0;
    return r;
  };
  std::vector<double> xtx(p * p, 0.0), xty(p, 0.0);
  for (const auto& pt : pts) {
    const auto r = row(pt);
    for (std::size_t i = 0; i < p; ++i) {
      xty[i] += r[i] * pt.y;
      for (std::size_t j = 0; j < p; ++j) xtx[i * p + j] += r[i] * r[j];
    }
  }
  if (!invert(xtx, p)) return not_identifiable("a node's cells are confounded with the grid (shard by another axis)");
  std::vector<double> beta(p, 0.0);
  for (std::size_t i = 0; i < p; ++i)
    for (std::size_t j = 0; j < p; ++j) beta[i] += xtx[i * p + j] * xty[j];
  double sse = 0.0;
  for (const auto& pt : pts) {
    const auto r = row(pt);
    double fitted = 0.0;
    for (std::size_t i = 0; i < p; ++i) fitted += r[i] * beta[i];
    sse += (pt.y - fitted) * (pt.y - fitted);
  }
  const std::size_t df = pts.size() - p;
  const double sigma2 = sse / static_cast<double>(df);
  const double t = study::t975(df);
  for (std::size_t h = 1; h < nodes.size(); ++h) {
    const std::size_t k = axes + h;
    const double g = beta[k], half = t * std::sqrt(std::max(0.0, sigma2 * xtx[k * p + k]));
    auto pct = [](double v) { return (std::exp(v) - 1.0) * 100.0; };
    nodes[h].effect_pct = pct(g);
    nodes[h].low_pct = pct(g - half);
    nodes[h].high_pct = pct(g + half);
    const bool excludes_zero = g - half > 0.0 || g + half < 0.0;
    nodes[h].verdict = excludes_zero && std::abs(*nodes[h].effect_pct) > kDisagreePct ? "DISAGREES" : "agrees";
  }
}

// The logs of the axes that vary among `cells`: I, O, B.
std::vector<Point> points_of(const std::vector<const study::CellResult*>& cells,
                             const std::map<std::string, std::size_t>& node_index) {
  auto varies = [&](std::uint64_t study::CellKey::*axis) {
    for (const auto* c : cells)
      if (c->key.*axis != cells.front()->key.*axis) return true;
    return false;
  };
  std::vector<std::uint64_t study::CellKey::*> axes;
  for (auto a : {&study::CellKey::input_tokens, &study::CellKey::output_tokens, &study::CellKey::batch})
    if (varies(a)) axes.push_back(a);
  std::vector<Point> pts;
  for (const auto* c : cells) {
    Point pt;
    pt.y = std::log(c->energy_per_batch_j().mean);
    for (auto a : axes) pt.x.push_back(std::log(static_cast<double>(c->key.*a)));
    pt.node = node_index.at(node_of(*c));
    pts.push_back(std::move(pt));
  }
  return pts;
}

}  // namespace

std::vector<NodeEffect> node_effects(const ReportData& data) {
  std::map<std::string, std::vector<const study::CellResult*>> by_config;
  for (const auto& c : data.cells) {
    if (c.status != study::CellStatus::kDone || c.simulated || c.reps.empty() || node_of(c).empty()) continue;
    if (!(c.energy_per_batch_j().mean > 0.0)) continue;
    by_config[c.key.config].push_back(&c);
  }
  std::vector<NodeEffect> out;
  for (const auto& [config, cells] : by_config) {
    std::map<std::string, std::size_t> count;
    for (const auto* c : cells) ++count[node_of(*c)];
    if (count.size() < 2) continue;
    std::vector<NodeEffect> nodes;
    for (const auto& [node, n] : count) nodes.push_back({config, node, n, false, std::nullopt, {}, {}, ""});
    std::stable_sort(nodes.begin(), nodes.end(),
                     [](const NodeEffect& a, const NodeEffect& b) { return a.cells > b.cells; });
    nodes[0].reference = true;
    nodes[0].effect_pct = 0.0;
    nodes[0].verdict = "reference";
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < nodes.size(); ++i) index[nodes[i].node] = i;
    fit(points_of(cells, index), nodes);
    out.insert(out.end(), nodes.begin(), nodes.end());
  }
  return out;
}

Table nodes_table(const std::vector<NodeEffect>& effects) {
  Table t;
  t.name = "nodes";
  t.title = "Nodes: does each node read like the others? (energy per batch against the grid, one offset per node)";
  t.columns = {
      {"config", "configuration name"},
      {"node", "where the cells were measured (scheduler node, else hostname)"},
      {"cells", "measured cells of the config on the node"},
      {"effect_pct", "energy against the reference node at the same I, O, B, % (exp(offset) - 1)"},
      {"effect_low_pct", "95 % interval, low end, %"},
      {"effect_high_pct", "95 % interval, high end, %"},
      {"verdict", "reference | agrees | DISAGREES (interval excludes 0 and |effect| > 5 %) | not identifiable"}};
  auto opt = [](const std::optional<double>& v) { return v ? Value{*v} : Value{}; };
  for (const auto& e : effects)
    t.rows.push_back({e.config, e.node, Value{static_cast<std::int64_t>(e.cells)}, opt(e.effect_pct), opt(e.low_pct),
                      opt(e.high_pct), e.verdict});
  return t;
}

std::vector<std::string> disagreement_lines(const std::vector<NodeEffect>& effects) {
  std::vector<std::string> out;
  std::string reference;
  for (const auto& e : effects) {
    if (e.reference) reference = e.node;
    if (e.verdict != "DISAGREES") continue;
    out.push_back(
        fmt::format("config {}: node {} reads {:+.1f} % (95 % {:+.1f} % to {:+.1f} %) against {} at the same "
                    "I, O, B",
                    e.config, e.node, *e.effect_pct, *e.low_pct, *e.high_pct, reference));
  }
  return out;
}

}  // namespace jouleperf::report
