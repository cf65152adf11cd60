// Streaming trace loaders: Azure LLM inference 2023/2024, BurstGPT, Mooncake JSONL and
// any CSV or JSONL with named columns. A loader reads one line at a time and hands each
// request to a visitor, so memory stays bounded whatever the trace's size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::workload {

enum class TraceFormat {
  kAuto,      // detect from the header (CSV) or the first line (JSONL)
  kAzure,     // TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM inference 2023 and 2024)
  kBurstGpt,  // Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type[,Session ID,Elapsed time]
  kMooncake,  // JSONL {"timestamp": ms, "input_length", "output_length", "hash_ids"}
  kCsv,       // any CSV with a header; columns named by LoadOptions
  kJsonl,     // any JSONL; fields named by LoadOptions
};

// "auto", "azure", "burstgpt", "mooncake", "csv", "jsonl".
std::string_view trace_format_name(TraceFormat format);
// Accepts the names above and "azure-2023", "azure-2024"; kInvalidArgument otherwise.
Result<TraceFormat> parse_trace_format(std::string_view name);

enum class TimeUnit { kSeconds, kMilliseconds, kMicroseconds, kNanoseconds };
// "s", "ms", "us", "ns"; kInvalidArgument otherwise.
Result<TimeUnit> parse_time_unit(std::string_view name);

// A --where filter: the tag whose normalized key equals normalize_key(key) must equal value.
struct TagFilter {
  std::string key;
  std::string value;
};
// Parses "key=value" (the value may contain '='). kInvalidArgument without '=' or a key.
Result<TagFilter> parse_tag_filter(std::string_view text);

struct LoadOptions {
  TraceFormat format = TraceFormat::kAuto;
  // Generic CSV/JSONL: column (CSV header name) or field (JSONL key) names. Naming
  // input_col with format kAuto selects the generic loader. Without time_col the trace
  // has no arrival times.
  std::string input_col;
  std::string output_col;
  std::string time_col;
  TimeUnit time_unit = TimeUnit::kSeconds;  // unit of a numeric time column (dates need none)
  bool skip_bad = false;                    // count and skip malformed rows instead of failing
  bool include_failed = false;              // BurstGPT: keep rows with Response tokens == 0
  std::vector<TagFilter> where;             // all must match
  std::optional<double> from_s;             // keep arrivals >= from_s (seconds since the first timed row)
  std::optional<double> to_s;               // keep arrivals <  to_s
  std::size_t max_bad_examples = 5;         // skipped rows whose reasons are kept
};

// A row skipped under skip_bad.
struct BadRow {
  std::uint64_t line = 0;
  std::string reason;
};

struct LoadSummary {
  std::string source;                       // the path (or name) read
  TraceFormat format = TraceFormat::kAuto;  // the format used (detected or forced)
  bool has_arrivals = false;                // rows carry times
  std::uint64_t rows = 0;                   // data rows read (blank lines and the header excluded)
  std::uint64_t requests = 0;               // rows handed to the visitor
  std::uint64_t failed_excluded = 0;        // BurstGPT failed rows (Response tokens == 0) left out
  std::uint64_t zero_token_excluded = 0;    // other rows with 0 input or 0 output tokens, left out
  std::uint64_t skipped_bad = 0;            // malformed rows skipped (skip_bad)
  std::uint64_t filtered_out = 0;           // rows not matching where/from/to
  std::vector<BadRow> bad_examples;         // the first max_bad_examples skipped rows
  bool last_line_unterminated = false;      // the file did not end with a newline
};

using RequestVisitor = std::function<void(const Request&)>;

// Reads the trace at `path` (plain or gzip) and calls `visit` for each request that
// passes the filters, in file order. Arrival times are seconds since the first row
// that has a valid time (so the first request arrives at 0 in a sorted trace).
// Requests with 0 input or 0 output tokens are left out and counted (zero_token_excluded),
// unless the format marks them failed (BurstGPT: Response tokens = 0, failed_excluded).
// Fails with kNotFound/kPermissionDenied/kIo for the file, kInvalidArgument for bad
// options (an unknown --where key, --from without times), kParse with "FILE:LINE:
// reason" for the first malformed row unless skip_bad is set, and kParse "FILE: no
// requests" for a file without a data row (empty, or a header only).
Result<LoadSummary> load_trace(const std::string& path, const LoadOptions& options, const RequestVisitor& visit);

// The same, reading `data` in memory; `name` is used in messages. For tests and fuzzing.
Result<LoadSummary> load_trace_from_memory(std::string_view data, std::string_view name, const LoadOptions& options,
                                           const RequestVisitor& visit);

}  // namespace jouleperf::workload
