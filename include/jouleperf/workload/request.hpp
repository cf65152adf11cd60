// One request of a workload trace, as the loaders hand it to a visitor.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace jouleperf::workload {

// A string field of a row kept for filtering (BurstGPT: Model, Log Type, Session ID).
// key is the column or field name as written in the file; both views point into the
// loader's line buffer and are valid only during the visitor call.
struct Tag {
  std::string_view key;
  std::string_view value;
};

// One request. Views (tags) are valid only during the visitor call; copy what you keep.
struct Request {
  std::uint64_t line = 0;           // 1-based line number in the source (header = line 1 for CSV)
  std::optional<double> arrival_s;  // seconds since the trace's first timed row; empty: no times
  std::uint64_t input_tokens = 0;   // prompt (context) length, tokens
  std::uint64_t output_tokens = 0;  // generated length, tokens
  std::span<const Tag> tags;        // format-specific string fields
};

// A request reduced to what the study needs, owned (no views): for arrival processes,
// synthetic workloads and occupancy estimates. 16 bytes.
struct TimedRequest {
  double arrival_s = 0.0;          // seconds from the start of the workload
  std::uint32_t input_tokens = 0;  // tokens
  std::uint32_t output_tokens = 0;
};

// Lower-cases ASCII and drops spaces, '_' and '-', so "Log Type", "log_type" and
// "logtype" name the same tag. Used for --where keys and column look-ups.
std::string normalize_key(std::string_view key);

// The value of the tag whose normalized key equals normalize_key(key), if any.
std::optional<std::string_view> find_tag(const Request& request, std::string_view key);

}  // namespace jouleperf::workload
