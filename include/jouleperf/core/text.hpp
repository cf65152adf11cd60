// Small, strict text and file helpers shared by the parsers. Nothing here turns
// bad input into a zero: every parse either yields the number or an error saying why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// Reads a whole (small) file. errno maps to Errc: ENOENT -> kNotFound,
// EACCES/EPERM -> kPermissionDenied, anything else -> kIo. The message names the path.
Result<std::string> read_text_file(const std::string& path);

// Maps an errno value from an operation on `what` to an Error with a one-line message.
Error errno_error(int err, std::string_view what);

// Strips leading and trailing ASCII whitespace (including '\r' and '\n').
std::string_view trim(std::string_view s);

// Parses a whole decimal unsigned integer (surrounding whitespace allowed).
// Fails with kParse on empty input, a sign, trailing garbage or overflow.
Result<std::uint64_t> parse_u64(std::string_view s);

// Parses a whole decimal signed integer (surrounding whitespace allowed).
Result<std::int64_t> parse_i64(std::string_view s);

// Parses a whole floating-point number (surrounding whitespace allowed); accepts
// "NaN", "+Inf", "-Inf" as Prometheus writes them. Fails with kParse otherwise.
Result<double> parse_double(std::string_view s);

}  // namespace jouleperf
