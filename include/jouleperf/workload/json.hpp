// JSON renderings of the workload results, one schema for the CLI and reports.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/stats.hpp"
#include "jouleperf/workload/trace_binning.hpp"

namespace jouleperf::workload {

// {"source", "format", "rows", "requests", "failed_excluded", "zero_token_excluded", "skipped_bad",
//  "filtered_out", "bad_examples": [{"line", "reason"}]}
nlohmann::json to_json(const LoadSummary& summary);

// {"count", "mean", "std", "median", "p90", "p99", "min", "max", "total"}; lengths in tokens.
nlohmann::json to_json(const LengthStats& stats);

// The load summary's fields, plus "input" and "output" (LengthStats, null when empty),
// "duration_s", "rate_rps", "interarrival_mean_s", "interarrival_cv" (null without
// times), "arrivals_in_file_order", and "rate_series": {"bucket_s", "start_s", "counts"}.
nlohmann::json to_json(const TraceStats& stats);

// The load summary's fields plus "policy", "input_edges", "output_edges",
// "input_overflow_bin", "output_overflow_bin", "counts" (rows = input bins), "tokens",
// "request_share", "token_share", "binned", "clamped", "excluded": {"requests",
// "by_input", "by_output", "tokens", "request_share", "token_share"}, "fidelity":
// {"ks_input", "ks_output", "token_ratio", "input_token_ratio", "output_token_ratio",
// real and binned token sums}, "batch_sizes" (null or {"budget_bytes", "weights_bytes",
// "kv_bytes_per_token", "max_batch", "matrix"}) and "concurrency" (null or
// {"decode_s_per_token", "prefill_s_per_token", "mean", "p50", "p90", "p99", "max",
// "span_s", "busy_share", "above_cap_share", "time_share"}).
nlohmann::json to_json(const TraceBinning& binning);

}  // namespace jouleperf::workload
