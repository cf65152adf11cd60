// JSON renderings of the workload results, one schema for the CLI and reports.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/stats.hpp"

namespace jouleperf::workload {

// {"source", "format", "rows", "requests", "failed_excluded", "skipped_bad",
//  "filtered_out", "bad_examples": [{"line", "reason"}]}
nlohmann::json to_json(const LoadSummary& summary);

// {"count", "mean", "std", "median", "p90", "p99", "min", "max", "total"}; lengths in tokens.
nlohmann::json to_json(const LengthStats& stats);

// The load summary's fields, plus "input" and "output" (LengthStats, null when empty),
// "duration_s", "rate_rps", "interarrival_mean_s", "interarrival_cv" (null without
// times), "arrivals_in_file_order", and "rate_series": {"bucket_s", "start_s", "counts"}.
nlohmann::json to_json(const TraceStats& stats);

}  // namespace jouleperf::workload
