// What a report is made of: a study's configurations, its cells and the documents stored
// beside them (estimates, replays, validations, power traces, lengths, the study summary;
// schemas in docs/report.md). Every artifact kind is optional: an absent kind is a
// figure that was not run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/cell.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::report {

struct ReportData {
  std::vector<study::Config> configs;
  std::vector<study::CellResult> cells;
  std::vector<study::Artifact> artifacts;

  // Artifacts of one kind, in stored order.
  std::vector<const study::Artifact*> of_kind(std::string_view kind) const;
  // The config of that name, or nullptr.
  const study::Config* config(std::string_view name) const;
  // The "study"/"summary" document's sensor_note, when present.
  std::optional<std::string> sensor_note() const;
};

// Reads everything from an open store. Fails with the store's error (kIo, kParse).
Result<ReportData> load_report_data(const study::Store& store);

}  // namespace jouleperf::report
