// The self-contained HTML report: one file that opens with no network. Charts are
// Vega-Lite specs rendered by the inlined vega, vega-lite and vega-embed scripts; each
// figure carries a provenance line (measured / estimated / simulated, energy source,
// sensor). Every string from stores, traces and models is escaped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report {

// The report's sections a chart belongs to: measured and estimated configurations,
// simulated ones (their own scales: never on one scale with a measured one), and what is
// common to both (request lengths, power traces).
inline constexpr const char* kSectionMeasured = "measured";
inline constexpr const char* kSectionSimulated = "simulated";
inline constexpr const char* kSectionCommon = "common";

struct Chart {
  std::string id;          // stable element id: "energy-per-batch" (simulated part: "sim-energy-per-batch")
  std::string section;     // kSectionMeasured | kSectionSimulated | kSectionCommon
  std::string title;       // heading
  std::string provenance;  // "estimated: energy source cpu-time-model, sensor cpu-model. ..."
  nlohmann::json spec;     // a Vega-Lite spec with its data inlined; null when there is no data
  std::string not_run;     // with a null spec: why the figure is absent ("no power-trace artifacts")
  std::string table_html;  // optional HTML table shown with the figure (already escaped)
};

// The report's figures, in page order: per part (measured and estimated; simulated, when
// the store has simulated configurations) the Table-4 comparison, savings, energy per
// batch and prefill share over I x O (one batch size at a time), energy per output token
// against batch size (a panel per configuration), latency against energy; then binned vs
// real length CDFs and power over time. Every chart fits 1400 x 900 px. Fails (kParse)
// naming the artifact and field when an artifact is malformed.
Result<std::vector<Chart>> build_charts(const ReportData& data);

// The page as a person reads it (docs/report.md): the first screen answers (what ran,
// MEASURED / ESTIMATED / SIMULATED, the headline table per workload and configuration,
// the findings), then the sections, the before/after comparison when `before` is given,
// and the tables (three significant digits, a CSV download each). The page script records, on <body>,
// data-charts-expected (charts with a spec), data-charts-rendered (vegaEmbed resolved and an <svg> is in place),
// data-errors (script errors, rejected promises, failed embeds, joined by " | "), data-error-count and data-done="1"
// once every embed settled.
std::string render_html(const ReportData& data, const std::vector<Chart>& charts, const ReportData* before = nullptr);

// build_charts then render_html; with `before` (an older store of the same study, e.g.
// before an engine or driver upgrade) a before/after section (compare.hpp). Fails as
// build_charts, summarize and compare fail.
Result<std::string> html_report(const ReportData& data, const ReportData* before = nullptr);

}  // namespace jouleperf::report
