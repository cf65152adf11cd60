// optimize_document: a simulated search as tables and lines, with the whole run as JSON.
#include <fmt/format.h>

#include <algorithm>

#include "jouleperf/sim/optimize_run.hpp"

namespace jouleperf::sim {
namespace {

nlohmann::json positive_or_null(double v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json run_json(const OptimizeRun& run) {
  const auto& r = run.result;
  const auto& s = run.search;
  nlohmann::json j{{"simulated", true},
                   {"workload", run.workload},
                   {"model", run.model},
                   {"configurations", r.candidates.size()},
                   {"ran", r.ran},
                   {"simulated_runs", r.simulated_runs},
                   {"feasible", r.feasible},
                   {"wall_s", r.wall_s},
                   {"threads", run.threads},
                   {"slo",
                    {{"ttft_p99_s", positive_or_null(s.slo_ttft)},
                     {"tpot_p99_s", positive_or_null(s.slo_tpot)},
                     {"e2e_p99_s", positive_or_null(s.slo_e2e)},
                     {"min_throughput_rps", positive_or_null(s.min_throughput)}}}};
  j["best"] = r.best ? to_json(r.candidates[*r.best]) : nlohmann::json(nullptr);
  nlohmann::json front = nlohmann::json::array();
  for (std::size_t i : r.pareto) front.push_back(to_json(r.candidates[i]));
  j["pareto"] = front;
  j["baseline"] = r.baseline ? to_json(*r.baseline) : nlohmann::json(nullptr);
  j["savings_vs_baseline"] = r.best && r.baseline ? nlohmann::json(r.savings_vs_baseline) : nlohmann::json(nullptr);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& e : r.candidates) all.push_back(to_json(e));
  j["candidates"] = all;
  return j;
}

table::Table candidates_table(std::string name, std::string title, const std::vector<const Evaluated*>& rows) {
  table::Table t;
  t.name = std::move(name);
  t.title = std::move(title);
  t.columns = {{"configuration", "hardware, devices, stack, batching, max batch, decoding, precision"},
               {"energy_per_request_j", "simulated energy per request, J"},
               {"ttft_p99_ms", "p99 time to first token, ms"},
               {"tpot_p99_ms", "p99 time per output token, ms"},
               {"e2e_p99_s", "p99 end-to-end latency, s"},
               {"feasible", "meets every SLO"}};
  for (const auto* e : rows)
    t.rows.push_back(
        {e->label, e->energy_per_request_j, e->ttft_p99_s * 1e3, e->tpot_p99_s * 1e3, e->e2e_p99_s, e->feasible});
  return t;
}

std::vector<const Evaluated*> top_by_energy(const OptimizeResult& r, std::size_t top) {
  std::vector<const Evaluated*> order;
  for (const auto& c : r.candidates)
    if (c.feasible) order.push_back(&c);
  std::sort(order.begin(), order.end(),
            [](const Evaluated* a, const Evaluated* b) { return a->energy_j < b->energy_j; });
  if (order.size() > top) order.resize(top);
  return order;
}

std::string limit(double v, const char* op, const char* unit) {
  return v > 0 ? fmt::format("{} {:g} {}", op, v, unit) : "-";
}

std::vector<std::string> header(const OptimizeRun& run) {
  const auto& r = run.result;
  const auto& s = run.search;
  return {
      "SIMULATED — a model, not a measurement (docs/simulator.md; unvalidated on GPUs)",
      fmt::format("model {}; workload {}", run.model, run.workload),
      fmt::format("searched {} configurations ({} accepted by the simulator, {} feasible; {} simulations, the rest "
                  "identical to a larger max batch) in {:.1f} s on {} threads",
                  r.candidates.size(), r.ran, r.feasible, r.simulated_runs, r.wall_s, run.threads),
      fmt::format("SLOs: TTFT p99 {}, TPOT p99 {}, e2e p99 {}, throughput {}", limit(s.slo_ttft, "<=", "s"),
                  limit(s.slo_tpot, "<=", "s"), limit(s.slo_e2e, "<=", "s"), limit(s.min_throughput, ">=", "req/s"))};
}

void add_baseline(table::Document& doc, const OptimizeResult& r) {
  if (!r.baseline) return;
  const Evaluated& b = *r.baseline;
  if (!b.ran) {
    doc.footer.push_back(fmt::format("baseline {}: {}", b.label, b.why));
    return;
  }
  doc.tables.push_back(candidates_table("baseline", "Baseline", {&b}));
  if (!b.feasible) doc.footer.push_back(fmt::format("the baseline misses: {}", b.why));
  if (r.best)
    doc.footer.push_back(
        fmt::format("savings against the baseline: {:.1f}% of its energy per request", 100.0 * r.savings_vs_baseline));
}

}  // namespace

table::Document optimize_document(const OptimizeRun& run) {
  const auto& r = run.result;
  table::Document doc;
  doc.header = header(run);
  if (!r.best) {
    doc.footer.push_back("no configuration meets the constraints");
  } else {
    doc.tables.push_back(candidates_table("best", "Minimum energy", {&r.candidates[*r.best]}));
    std::vector<const Evaluated*> front;
    for (std::size_t i : r.pareto) front.push_back(&r.candidates[i]);
    doc.tables.push_back(candidates_table("pareto", "Energy-latency Pareto front (p99 end-to-end)", front));
    const auto top = top_by_energy(r, run.search.top);
    doc.tables.push_back(candidates_table("top", fmt::format("Top {} by energy", top.size()), top));
  }
  add_baseline(doc, r);
  doc.json = run_json(run);
  return doc;
}

}  // namespace jouleperf::sim
