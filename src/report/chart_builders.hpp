// The builders of each figure of the HTML report (one function per figure), shared by
// charts.cpp. A builder returns a Chart whose spec is null (with a not_run note) when
// there is no data for it. Internal to src/report.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/core/result.hpp"
#include "jouleperf/report/html.hpp"
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report::detail {

// A Vega-Lite v5 spec with its $schema and description.
nlohmann::json vega_lite(const std::string& description);

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

}  // namespace jouleperf::report::detail
