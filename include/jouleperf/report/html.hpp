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

struct Chart {
  std::string id;          // stable element id: "energy-per-batch"
  std::string title;       // heading
  std::string provenance;  // "estimated: energy source cpu-time-model, sensor cpu-model. ..."
  nlohmann::json spec;     // a Vega-Lite spec with its data inlined; null when there is no data
  std::string not_run;     // with a null spec: why the figure is absent ("no power-trace artifacts")
  std::string table_html;  // optional HTML table shown with the figure (already escaped)
};

// The report's figures, in page order: energy per batch (I x O heatmap per batch size),
// energy per output token against batch size, prefill vs decode share, power over time,
// binned vs real length CDFs, the Table-4 comparison, savings, latency against energy.
// Fails (kParse) naming the artifact and field when an artifact is malformed.
Result<std::vector<Chart>> build_charts(const ReportData& data);

// The whole page. The page script records, on <body>, data-charts-expected (charts with
// a spec), data-charts-rendered (vegaEmbed resolved and an <svg> is in place), data-errors
// (script errors, rejected promises, failed embeds, joined by " | "), data-error-count and
// data-done="1" once every embed settled.
std::string render_html(const ReportData& data, const std::vector<Chart>& charts);

// build_charts then render_html.
Result<std::string> html_report(const ReportData& data);

}  // namespace jouleperf::report
