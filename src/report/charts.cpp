#include "chart_builders.hpp"

namespace jouleperf::report {

Result<std::vector<Chart>> build_charts(const ReportData& data) {
  std::vector<Chart> charts;
  charts.push_back(detail::energy_per_batch_chart(data));
  charts.push_back(detail::energy_per_token_chart(data));
  charts.push_back(detail::phase_share_chart(data));
  for (auto* build : {&detail::power_chart, &detail::lengths_chart, &detail::table4_chart, &detail::savings_chart,
                      &detail::latency_energy_chart}) {
    auto c = build(data);
    if (!c) return c.error();
    charts.push_back(std::move(*c));
  }
  return charts;
}

}  // namespace jouleperf::report
