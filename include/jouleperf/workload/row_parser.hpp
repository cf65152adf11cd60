// The per-format half of a loader: turns one line into one row. The loader (loader.cpp)
// owns reading, time origins, filters and error policy; a RowParser knows one format.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::workload {

// One parsed row. time_ns is in the file's own clock (absolute for dates, relative for
// numeric times); tags point into the line or the parser's own storage.
struct ParsedRow {
  std::optional<std::int64_t> time_ns;
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  bool failed = false;  // BurstGPT: Response tokens == 0
  std::vector<Tag> tags;
};

class RowParser {
 public:
  virtual ~RowParser() = default;
  // True for CSV formats: the first non-blank line is a header passed to parse_header.
  virtual bool has_header() const = 0;
  // Reads the header; fails with a reason (kParse) when required columns are missing.
  virtual Status parse_header(std::string_view line) = 0;
  // Parses a data line. The error message is the reason only (the loader adds file and line).
  virtual Status parse_row(std::string_view line, ParsedRow& row) = 0;
  // Tag keys every row carries (known after the header), or empty when rows differ (JSONL).
  virtual std::vector<std::string> tag_keys() const = 0;
  // Whether tag keys are fixed by a header (so an unknown --where key is an error up front).
  virtual bool tag_keys_fixed() const = 0;
};

std::unique_ptr<RowParser> make_azure_parser();
std::unique_ptr<RowParser> make_burstgpt_parser();
std::unique_ptr<RowParser> make_mooncake_parser();
std::unique_ptr<RowParser> make_generic_csv_parser(const LoadOptions& options);
std::unique_ptr<RowParser> make_generic_jsonl_parser(const LoadOptions& options);

// Converts a numeric time in `unit` to nanoseconds; fails (kParse) when negative or out of range.
Result<std::int64_t> time_to_ns(double value, TimeUnit unit, std::string_view what);

// Detects the format of a trace from its first non-blank line (a BOM removed).
// kParse with the header quoted when nothing matches.
Result<TraceFormat> detect_trace_format(std::string_view first_line, const LoadOptions& options);

// Index of the header column whose name matches `name` exactly after trimming, else
// case-insensitively; -1 when absent.
int find_column(const std::vector<std::string>& header, std::string_view name);

}  // namespace jouleperf::workload
