// Reading a report's data from a results store (its own file: only the CLI needs the store).
#include "jouleperf/report/report_data.hpp"

namespace jouleperf::report {

Result<ReportData> load_report_data(const study::Store& store) {
  ReportData d;
  auto configs = store.configs();
  if (!configs) return configs.error();
  auto cells = store.cells();
  if (!cells) return cells.error();
  auto artifacts = store.artifacts();
  if (!artifacts) return artifacts.error();
  d.configs = std::move(*configs);
  d.cells = std::move(*cells);
  d.artifacts = std::move(*artifacts);
  return d;
}

}  // namespace jouleperf::report
