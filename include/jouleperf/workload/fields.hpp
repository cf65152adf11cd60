// Strict field parsers shared by the trace loaders: CSV splitting, token counts,
// numbers. Each returns the value or a reason; nothing malformed becomes 0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf::workload {

// Largest token count a loader accepts (lengths are stored in 32 bits downstream).
inline constexpr std::uint64_t kMaxTokenCount = 0xFFFFFFFFull;

// Splits one CSV record into `fields` (cleared first). Fields may be quoted with '"'
// (RFC 4180: a doubled quote inside a quoted field is one quote); unquoted fields are
// views into `line`, unescaped quoted fields live in `scratch`, so every view stays
// valid until `line` or `scratch` change. Records spanning lines are not supported:
// an unterminated quote fails with kParse.
Status split_csv(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch);

// Parses a token count: a non-negative decimal integer (surrounding spaces allowed;
// "12.0" is accepted as 12 since pandas writes integer columns that way). Fails with a
// kParse reason naming `what` for an empty field, a negative or fractional value,
// anything non-numeric, and values above kMaxTokenCount.
Result<std::uint64_t> parse_token_count(std::string_view field, std::string_view what);

// Parses a finite decimal number (surrounding spaces allowed); no NaN or infinities.
Result<double> parse_finite(std::string_view field, std::string_view what);

}  // namespace jouleperf::workload
