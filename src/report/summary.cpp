#include "jouleperf/report/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "json_fields.hpp"
#include "people_table.hpp"
#include "provenance.hpp"

namespace jouleperf::report {

namespace {

using detail::Fields;

std::string where(const study::Artifact& a) { return "artifact " + a.kind + "/" + a.name; }

template <class T>
void add_unique(std::vector<T>& list, const T& v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

// Validation errors by (config, workload): the binned (paper) estimate against the run.
Result<std::map<std::pair<std::string, std::string>, double>> validation_errors(const ReportData& data) {
  std::map<std::pair<std::string, std::string>, double> out;
  for (const auto* a : data.of_kind("validation")) {
    Fields f(a->body, where(*a));
    const auto config = f.text("config");
    const auto workload = f.text("workload");
    const auto error = f.number("paper_error_pct");
    if (auto st = f.status(); !st) return st.error();
    if (config && workload && error) out[{*config, *workload}] = *error;
  }
  return out;
}

// The saving's interval from both estimates' bounds when no paired interval was stored:
// the widest saving the two intervals allow.
void bound_saving(HeadlineRow& r, const HeadlineRow& base) {
  if (r.kind == Kind::kSimulated || r.saving_lo_pct || !r.saving_pct || !r.wh_per_1k_lo || !r.wh_per_1k_hi ||
      !base.wh_per_1k_lo || !base.wh_per_1k_hi || !(*base.wh_per_1k_lo > 0.0) || !(*base.wh_per_1k_hi > 0.0))
    return;
  r.saving_lo_pct = 100.0 * (1.0 - *r.wh_per_1k_hi / *base.wh_per_1k_lo);
  r.saving_hi_pct = 100.0 * (1.0 - *r.wh_per_1k_lo / *base.wh_per_1k_hi);
}

// A percentage as people say it: 41, 7.1, 0.53.
std::string pct(double v) {
  const double a = std::fabs(v);
  return fmt::format("{:.{}f}", v, a >= 9.95 ? 0 : a >= 0.995 ? 1 : 2);
}

std::string interval_text(const HeadlineRow& r) {
  if (r.kind == Kind::kSimulated) return "simulated: no measurement interval";
  if (!r.saving_lo_pct || !r.saving_hi_pct) return "no interval: a single repetition";
  const std::string range = pct(*r.saving_lo_pct) + " to " + pct(*r.saving_hi_pct) + " %";
  return r.saving_interval_paired ? "95 % interval " + range : "interval " + range + " from both estimates' bounds";
}

// "q8_0 uses 41 % less energy per request than baseline on azure-conv (95 % interval 35 to 46 %)."
std::string saving_sentence(const HeadlineRow& r) {
  const double s = *r.saving_pct;
  const std::string kind = r.kind == Kind::kSimulated ? "Simulated (nothing was run): " : "";
  if (std::fabs(s) < 0.5)
    return fmt::format("{}{} uses about the same energy per request as {} on {} ({}).", kind, r.config, r.baseline,
                       r.workload, interval_text(r));
  return fmt::format("{}{} uses {} % {} energy per request than {} on {} ({}).", kind, r.config, pct(std::fabs(s)),
                     s > 0 ? "less" : "more", r.baseline, r.workload, interval_text(r));
}

// The best (largest saving) non-baseline row per workload, among rows of `kind_simulated`.
std::vector<const HeadlineRow*> best_per_workload(const std::vector<HeadlineRow>& rows, bool simulated) {
  std::vector<std::string> order;
  std::map<std::string, const HeadlineRow*> best;
  for (const auto& r : rows) {
    if ((r.kind == Kind::kSimulated) != simulated || !r.saving_pct || r.config == r.baseline) continue;
    add_unique(order, r.workload);
    auto& b = best[r.workload];
    if (b == nullptr || *r.saving_pct > *b->saving_pct) b = &r;
  }
  std::vector<const HeadlineRow*> out;
  for (const auto& w : order) out.push_back(best[w]);
  return out;
}

std::vector<std::string> make_findings(const Summary& s) {
  std::vector<std::string> out;
  if (s.rows.empty()) {
    out.push_back(
        "The store holds no workload estimates, so there is no per-workload answer yet: run `jouleperf estimate "
        "--store ... --save` or `jouleperf study` (docs/estimate.md).");
    return out;
  }
  // The primary part: the measured and estimated rows, else (a simulated study) the simulated ones.
  bool any_measured = false;
  for (const auto& r : s.rows) any_measured |= r.kind != Kind::kSimulated;
  const bool primary_simulated = !any_measured;
  // Savings: the best configuration per workload (at most two workloads).
  for (const auto* r : best_per_workload(s.rows, primary_simulated)) {
    if (out.size() == 2) break;
    out.push_back(saving_sentence(*r));
  }
  // The FLOPs ideal: how far below the energy it sits.
  double lo = 0.0, hi = 0.0;
  std::string kind;
  for (const auto& r : s.rows) {
    if ((r.kind == Kind::kSimulated) != primary_simulated || !r.ideal_ratio) continue;
    lo = lo == 0.0 ? *r.ideal_ratio : std::min(lo, *r.ideal_ratio);
    hi = std::max(hi, *r.ideal_ratio);
    kind = std::string(kind_word(r.kind));
  }
  if (hi > 0.0) {
    const std::string range = pct(lo) == pct(hi) ? pct(lo) + "x" : pct(lo) + "x to " + pct(hi) + "x";
    out.push_back(fmt::format(
        "The FLOPs-ideal baseline (TDP / peak FLOP/s x the workload's FLOPs) sits {} below the {} energy: a "
        "FLOPs-based estimate undercounts it by that much.",
        range, kind));
  }
  // Validation: the binned estimate against a measured run.
  for (const auto& r : s.rows) {
    if (!r.validation_error_pct) continue;
    out.push_back(fmt::format(
        "Against a run of the same requests, the paper's binned estimate was {} % {} ({} on {}); binning alone "
        "moves the estimate by {} % against the same requests priced at their real lengths.",
        pct(std::fabs(*r.validation_error_pct)), *r.validation_error_pct >= 0 ? "high" : "low", r.config, r.workload,
        r.binned_vs_real_pct ? pct(*r.binned_vs_real_pct) : std::string("an unknown")));
    break;
  }
  // The simulated section, kept apart.
  if (!primary_simulated) {
    const auto sim = best_per_workload(s.rows, true);
    if (!sim.empty() && out.size() < 5) out.push_back(saving_sentence(*sim.front()));
  }
  return out;
}

}  // namespace

std::string_view kind_word(Kind k) {
  switch (k) {
    case Kind::kMeasured: return "MEASURED";
    case Kind::kEstimated: return "ESTIMATED";
    case Kind::kSimulated: return "SIMULATED";
  }
  return "MEASURED";
}

Kind kind_of(bool estimated, bool simulated) {
  if (simulated) return Kind::kSimulated;
  return estimated ? Kind::kEstimated : Kind::kMeasured;
}

Result<Summary> summarize(const ReportData& data) {
  Summary s;
  s.title = "jouleperf report";
  for (const auto* a : data.of_kind("study")) {
    if (a->name != "summary" || !a->body.is_object()) continue;
    const auto t = a->body.find("title");
    if (t != a->body.end() && t->is_string() && !t->get<std::string>().empty()) s.title = t->get<std::string>();
  }
  for (const auto& c : data.configs) {
    if (!c.engine.empty()) add_unique(s.what.engines, c.engine);
    if (!c.model.empty()) add_unique(s.what.models, std::filesystem::path(c.model).filename().string());
    for (const auto& [key, value] : c.settings)
      if (key == "hardware" && !value.empty()) add_unique(s.what.hardware, value + " (simulated)");
  }
  for (const auto& c : data.cells) {
    if (c.status != study::CellStatus::kDone) continue;
    if (!c.simulated) {
      const auto cpu = c.conditions.is_object() ? c.conditions.find("cpu_model") : c.conditions.end();
      if (c.conditions.is_object() && cpu != c.conditions.end() && cpu->is_string())
        add_unique(s.what.hardware, cpu->get<std::string>());
      const std::string sensor = detail::sensor_of(c.conditions);
      add_unique(s.what.sensors, sensor.empty() ? c.energy_source : sensor);
    }
  }
  if (s.what.sensors.empty())
    s.what.sensors.push_back(data.cells.empty() ? "none recorded" : "none: nothing was measured (simulated)");
  auto validations = validation_errors(data);
  if (!validations) return validations.error();

  std::vector<HeadlineRow> measured, simulated;
  for (const auto* a : data.of_kind("estimate")) {
    Fields top(a->body, where(*a));
    const std::string workload = top.text("workload").value_or(a->name);
    const std::string baseline = top.text("baseline").value_or("");
    const auto requests = top.number("requests");
    const nlohmann::json* configs = top.array("configs");
    if (auto st = top.status(); !st) return st.error();
    if (configs == nullptr) continue;
    std::vector<HeadlineRow> rows;
    for (std::size_t i = 0; i < configs->size(); ++i) {
      Fields f((*configs)[i], where(*a) + ", configs[" + std::to_string(i) + "]");
      HeadlineRow r;
      r.workload = workload;
      r.baseline = baseline;
      r.requests = requests;
      r.config = f.text("config").value_or("");
      r.kind = kind_of(f.boolean("estimated").value_or(false), f.boolean("simulated").value_or(false));
      r.energy_source = f.text("energy_source").value_or("");
      const auto e = f.number("energy_j");
      const auto lo = f.number("energy_lo_j");
      const auto hi = f.number("energy_hi_j");
      const auto corrected = f.number("corrected_energy_j");
      const auto ideal = f.number("ideal_energy_j");
      r.wh_per_1k = f.number("per_1000_requests_wh");
      r.saving_pct = f.number("saving_pct");
      r.saving_lo_pct = f.number("saving_lo_pct");
      r.saving_hi_pct = f.number("saving_hi_pct");
      if (auto st = f.status(); !st) return st.error();
      r.saving_interval_paired = r.saving_lo_pct && r.saving_hi_pct;
      if (r.config == baseline) r.saving_lo_pct = r.saving_hi_pct = std::nullopt;
      const bool have_e = e && *e > 0.0;
      if (!r.wh_per_1k && have_e && requests && *requests > 0) r.wh_per_1k = *e / 3600.0 / *requests * 1000.0;
      if (r.wh_per_1k && have_e) {
        if (lo) r.wh_per_1k_lo = *r.wh_per_1k * *lo / *e;
        if (hi) r.wh_per_1k_hi = *r.wh_per_1k * *hi / *e;
      }
      // A simulated figure has no measurement interval: a zero-width one is left out, not shown.
      if (r.kind == Kind::kSimulated && lo == e && hi == e) r.wh_per_1k_lo = r.wh_per_1k_hi = std::nullopt;
      if (have_e && corrected && *corrected > 0.0) r.binned_vs_real_pct = 100.0 * (*e / *corrected - 1.0);
      if (have_e && ideal && *ideal > 0.0) r.ideal_ratio = *e / *ideal;
      if (const auto v = validations->find({r.config, workload}); v != validations->end())
        r.validation_error_pct = v->second;
      rows.push_back(std::move(r));
    }
    const auto base =
        std::find_if(rows.begin(), rows.end(), [&](const HeadlineRow& r) { return r.config == baseline; });
    for (auto& r : rows) {
      if (base != rows.end() && &r != &*base) bound_saving(r, *base);
      add_unique(s.what.kinds, r.kind);
      (r.kind == Kind::kSimulated ? simulated : measured).push_back(std::move(r));
    }
  }
  s.rows = std::move(measured);
  for (auto& r : simulated) s.rows.push_back(std::move(r));
  std::stable_sort(s.what.kinds.begin(), s.what.kinds.end());
  s.findings = make_findings(s);
  return s;
}

table::Table headline_table(const Summary& s, const std::vector<Kind>& kinds) {
  table::Table t;
  t.name = "headline";
  t.title = "Energy per workload and configuration";
  t.columns = {
      {"workload", "workload (trace) the estimate is for"},
      {"config", "configuration"},
      {"kind", "MEASURED | ESTIMATED | SIMULATED"},
      {"energy_per_1k_requests_wh", "the paper's binned estimate, Wh per 1,000 requests"},
      {"energy_lo_wh", "its interval, low end (2 sigma + sensor bound), Wh per 1,000 requests"},
      {"energy_hi_wh", "its interval, high end, Wh per 1,000 requests"},
      {"saving_pct", "100 * (1 - E / E_baseline)"},
      {"saving_lo_pct", "the saving's interval, low end (paired 95 % where stored, else from both bounds)"},
      {"saving_hi_pct", "the saving's interval, high end"},
      {"binned_vs_real_pct", "binned estimate against the estimate with real lengths in each bin, %"},
      {"ideal_ratio_x", "binned estimate / FLOPs-ideal baseline"},
      {"validation_error_pct", "binned estimate against a measured run of the same requests, %"},
      {"energy_source", "where the per-batch energies came from"},
  };
  for (const auto& r : s.rows) {
    if (std::find(kinds.begin(), kinds.end(), r.kind) == kinds.end()) continue;
    t.rows.push_back({r.workload, r.config, std::string(kind_word(r.kind)), table::optional_value(r.wh_per_1k),
                      table::optional_value(r.wh_per_1k_lo), table::optional_value(r.wh_per_1k_hi),
                      table::optional_value(r.saving_pct), table::optional_value(r.saving_lo_pct),
                      table::optional_value(r.saving_hi_pct), table::optional_value(r.binned_vs_real_pct),
                      table::optional_value(r.ideal_ratio), table::optional_value(r.validation_error_pct),
                      r.energy_source});
  }
  return t;
}

std::string kinds_text(const WhatRan& w) {
  std::string out;
  for (std::size_t i = 0; i < w.kinds.size(); ++i) {
    if (i > 0) out += i + 1 == w.kinds.size() ? " and " : ", ";
    out += kind_word(w.kinds[i]);
  }
  return out.empty() ? "no energy figures" : out;
}

std::vector<std::string> summary_lines(const Summary& s) {
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out.empty() ? std::string("-") : out;
  };
  std::vector<std::string> out;
  out.push_back(fmt::format("What ran: engine {}; model {}; hardware {}; sensor {}. Energies: {}.",
                            join(s.what.engines), join(s.what.models), join(s.what.hardware), join(s.what.sensors),
                            kinds_text(s.what)));
  out.push_back("Findings:");
  for (const auto& f : s.findings) out.push_back("  - " + f);
  return out;
}

}  // namespace jouleperf::report
