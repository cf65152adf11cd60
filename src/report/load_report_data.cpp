// Reading a report's data from a results store (its own file: only the CLI needs the store).
#include "jouleperf/core/redact_json.hpp"
#include "jouleperf/core/safe_text.hpp"
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
  // A store written before credentials were redacted on the way in still shows none.
  for (auto& c : d.configs) {
    c.model = redact_urls_in(c.model);
    for (auto& kv : c.settings) kv.second = redact_urls_in(kv.second);
  }
  for (auto& c : d.cells) {
    c.reason = redact_urls_in(c.reason);
    c.conditions = redact_urls_in_json(c.conditions);
  }
  for (auto& a : d.artifacts) a.body = redact_urls_in_json(a.body);
  return d;
}

}  // namespace jouleperf::report
