// The builders of each figure of the HTML report (one function per figure), shared by
// charts.cpp. A builder returns a Chart whose spec is null (with a not_run note) when
// there is no data for it. Every chart is laid out to fit one screen (at most 900 px
// tall at 1400 px wide): many panels wrap into a grid (layout()), and a figure over
// batch sizes or traces shows one at a time with a selector. Internal to src/report.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/core/result.hpp"
#include "jouleperf/report/html.hpp"
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report::detail {

// A Vega-Lite v5 spec with its $schema and description.
nlohmann::json vega_lite(const std::string& description);

// Field encodings.
nlohmann::json quant(const char* field, const char* title, bool log = false);
nlohmann::json nominal(const char* field, const char* title);

// A grid of `panels` small multiples within `max_width` x `max_height` px: columns, and
// each panel's width and height (px). `extra_width` is what each panel adds beside its
// plot (axis titles, a legend of its own).
struct Grid {
  int columns = 1;
  int width = 200;
  int height = 150;
};
Grid layout(std::size_t panels, int preferred_width, int preferred_height, int extra_width = 60, int max_width = 1080,
            int max_height = 720);

// A top-level selector parameter over `options` (numbers or strings), first one chosen:
// {"name": name, "value": first, "bind": {"input": "select", "options": [...], "name": label}}.
nlohmann::json select_param(const std::string& name, const nlohmann::json& options, const std::string& label);

// True when the positive values, grouped by key, have medians more than `factor` apart
// (then each group gets its own scale: a configuration never shares a scale with one that
// differs from it by orders of magnitude).
bool spans_orders(const std::vector<std::pair<std::string, double>>& values, double factor = 10.0);

// From cells (chart_cells.cpp).
Chart energy_per_batch_chart(const ReportData& data);
Chart energy_per_token_chart(const ReportData& data);
Chart phase_share_chart(const ReportData& data);
Result<Chart> latency_energy_chart(const ReportData& data);

// From artifacts (chart_artifacts.cpp).
Result<Chart> power_chart(const ReportData& data);
Result<Chart> lengths_chart(const ReportData& data);
Result<Chart> table4_chart(const ReportData& data);
Result<Chart> savings_chart(const ReportData& data);

// From replays' energy per request and the cells (chart_requests.cpp).
Result<Chart> request_energy_chart(const ReportData& data);

// The measured-and-estimated part of `data` (simulated == false) or the simulated part:
// its configurations, their cells, the estimate documents' entries of those
// configurations, the replays and power traces of that kind; the study summary in both
// (charts.cpp).
ReportData part_of(const ReportData& data, bool simulated);
// True when `data` holds a configuration, cell or estimate entry.
bool has_content(const ReportData& data);

}  // namespace jouleperf::report::detail
