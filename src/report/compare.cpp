#include "jouleperf/report/compare.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>

#include "jouleperf/report/summary.hpp"

namespace jouleperf::report {

namespace {

using table::Value;

constexpr double kZ95 = 1.959963984540054;

// Relative half-width of an interval around `v`, when both ends are known.
std::optional<double> rel_half_width(const HeadlineRow& r) {
  if (!r.wh_per_1k || !r.wh_per_1k_lo || !r.wh_per_1k_hi || !(*r.wh_per_1k > 0.0)) return std::nullopt;
  return (*r.wh_per_1k_hi - *r.wh_per_1k_lo) / 2.0 / *r.wh_per_1k;
}

std::vector<Value> row(const std::string& workload, const std::string& config, const std::string& status,
                       std::optional<double> before, std::optional<double> after, std::optional<double> change,
                       std::optional<double> lo, std::optional<double> hi, const std::string& unit,
                       const std::string& source) {
  return {workload,
          config,
          status,
          table::optional_value(before),
          table::optional_value(after),
          table::optional_value(change),
          table::optional_value(lo),
          table::optional_value(hi),
          unit,
          source};
}

// "ESTIMATED, cpu-time-model"; both stores' when they differ ("before: ...; after: ...").
std::string source_text(const std::string& before, const std::string& after) {
  if (before.empty() || after.empty() || before == after) return after.empty() ? before : after;
  return "before: " + before + "; after: " + after;
}

std::string row_source(const HeadlineRow* r) {
  return r == nullptr ? std::string() : std::string(kind_word(r->kind)) + ", " + r->energy_source;
}

void estimate_rows(const Summary& after, const Summary& before, table::Table& t) {
  std::map<std::pair<std::string, std::string>, const HeadlineRow*> old_rows, new_rows;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& r : after.rows) {
    new_rows[{r.workload, r.config}] = &r;
    order.emplace_back(r.workload, r.config);
  }
  for (const auto& r : before.rows) {
    if (new_rows.count({r.workload, r.config}) == 0) order.emplace_back(r.workload, r.config);
    old_rows[{r.workload, r.config}] = &r;
  }
  for (const auto& key : order) {
    const auto* n = new_rows.count(key) ? new_rows[key] : nullptr;
    const auto* o = old_rows.count(key) ? old_rows[key] : nullptr;
    const std::string unit = "Wh per 1,000 requests";
    if (n == nullptr || o == nullptr) {
      t.rows.push_back(row(key.first, key.second, n ? "only in new" : "only in old", o ? o->wh_per_1k : std::nullopt,
                           n ? n->wh_per_1k : std::nullopt, std::nullopt, std::nullopt, std::nullopt, unit,
                           source_text(row_source(o), row_source(n))));
      continue;
    }
    std::optional<double> change, lo, hi;
    if (n->wh_per_1k && o->wh_per_1k && *o->wh_per_1k > 0.0) {
      const double ratio = *n->wh_per_1k / *o->wh_per_1k;
      change = 100.0 * (ratio - 1.0);
      const auto hn = rel_half_width(*n);
      const auto ho = rel_half_width(*o);
      if (hn && ho) {
        const double h = std::sqrt(*hn * *hn + *ho * *ho);
        lo = 100.0 * (ratio * (1.0 - h) - 1.0);
        hi = 100.0 * (ratio * (1.0 + h) - 1.0);
      }
    }
    t.rows.push_back(row(key.first, key.second, "in both", o->wh_per_1k, n->wh_per_1k, change, lo, hi, unit,
                         source_text(row_source(o), row_source(n))));
  }
}

struct CellStats {
  double mean = 0.0, sd = 0.0;
  std::size_t n = 0;
};

std::map<std::string, std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>, CellStats>> cells_by_config(
    const ReportData& d) {
  std::map<std::string, std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>, CellStats>> out;
  for (const auto& c : d.cells) {
    auto& m = out[c.key.config];  // a config with only skipped cells is still present
    if (c.status != study::CellStatus::kDone || c.reps.empty()) continue;
    const auto e = c.energy_per_batch_j();
    if (!(e.mean > 0.0)) continue;
    m[{c.key.input_tokens, c.key.output_tokens, c.key.batch}] = {e.mean, e.stddev, c.reps.size()};
  }
  for (const auto& c : d.configs) out[c.name];
  return out;
}

// Per configuration: the kind and energy source of its measured cells ("ESTIMATED, cpu-time-model").
std::map<std::string, std::string> cell_sources(const ReportData& d) {
  std::map<std::string, std::string> out;
  for (const auto& c : d.cells)
    if (c.status == study::CellStatus::kDone && out.count(c.key.config) == 0)
      out[c.key.config] = std::string(kind_word(kind_of(c.estimated, c.simulated))) + ", " + c.energy_source;
  return out;
}

void cell_rows(const ReportData& after, const ReportData& before, table::Table& t) {
  const auto n = cells_by_config(after);
  const auto o = cells_by_config(before);
  auto sn = cell_sources(after);
  auto so = cell_sources(before);
  std::set<std::string> names;
  for (const auto& [k, v] : n) names.insert(k);
  for (const auto& [k, v] : o) names.insert(k);
  const std::string unit = "J per batch, geometric mean of matched cells";
  for (const auto& name : names) {
    const auto in = n.find(name);
    const auto io = o.find(name);
    const std::string source = source_text(so[name], sn[name]);
    if (in == n.end() || io == o.end()) {
      t.rows.push_back(row("cells", name, in != n.end() ? "only in new" : "only in old", std::nullopt, std::nullopt,
                           std::nullopt, std::nullopt, std::nullopt, unit, source));
      continue;
    }
    double log_sum = 0.0, var_sum = 0.0, log_before = 0.0, log_after = 0.0;
    std::size_t k = 0;
    bool spread = true;
    for (const auto& [key, a] : in->second) {
      const auto b = io->second.find(key);
      if (b == io->second.end()) continue;
      log_sum += std::log(a.mean / b->second.mean);
      log_after += std::log(a.mean);
      log_before += std::log(b->second.mean);
      if (a.n < 2 || b->second.n < 2) spread = false;
      var_sum += a.sd * a.sd / (static_cast<double>(a.n) * a.mean * a.mean) +
                 b->second.sd * b->second.sd / (static_cast<double>(b->second.n) * b->second.mean * b->second.mean);
      ++k;
    }
    if (k == 0) {
      t.rows.push_back(row("cells", name, "no matching cells", std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                           std::nullopt, unit, source));
      continue;
    }
    const double kd = static_cast<double>(k);
    const double mean_log = log_sum / kd;
    std::optional<double> lo, hi;
    if (spread) {
      const double half = kZ95 * std::sqrt(var_sum) / kd;
      lo = 100.0 * (std::exp(mean_log - half) - 1.0);
      hi = 100.0 * (std::exp(mean_log + half) - 1.0);
    }
    t.rows.push_back(row(fmt::format("cells: {} matched", k), name, "in both", std::exp(log_before / kd),
                         std::exp(log_after / kd), 100.0 * (std::exp(mean_log) - 1.0), lo, hi, unit, source));
  }
}

}  // namespace

Result<table::Table> compare_table(const ReportData& after, const ReportData& before) {
  table::Table t;
  t.name = "compare";
  t.title = "Before and after: energy change per configuration";
  t.columns = {
      {"workload", "workload of the estimate, or \"cells: N matched\""},
      {"config", "configuration, matched by name"},
      {"status", "in both | only in new | only in old | no matching cells"},
      {"before", "the older store's figure (unit column)"},
      {"after", "the newer store's figure (unit column)"},
      {"change_pct", "100 * (after / before - 1); negative uses less energy"},
      {"change_lo_pct", "the change's interval, low end"},
      {"change_hi_pct", "the change's interval, high end"},
      {"unit", "what before and after measure"},
      {"source", "MEASURED | ESTIMATED | SIMULATED and the energy source (both stores' when they differ)"},
  };
  auto a = summarize(after);
  if (!a) return a.error();
  auto b = summarize(before);
  if (!b) return b.error();
  estimate_rows(*a, *b, t);
  cell_rows(after, before, t);
  return t;
}

}  // namespace jouleperf::report
