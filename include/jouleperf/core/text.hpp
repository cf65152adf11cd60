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

// Untrusted text made safe to quote in a one-line error message: control characters
// (escape sequences, newlines, NUL, DEL) written as \n, \t, \r or \xNN, a backslash as
// \\, and input longer than `max_bytes` cut there (at a UTF-8 boundary) with
// "… (N bytes)" naming the full length. Valid UTF-8 above ASCII is kept.
std::string printable_excerpt(std::string_view s, std::size_t max_bytes = 200);

// `url` with the userinfo of its authority (the "user:password@" of
// "http://user:password@host/path") replaced by "***@"; anything else unchanged. For
// every place a URL is stored or shown; the request itself uses the real URL.
std::string redact_url(std::string_view url);

// `text` with the userinfo of every "scheme://user:password@host" inside it redacted as
// redact_url does (for error messages from libraries that quote the URL).
std::string redact_urls_in(std::string_view text);

}  // namespace jouleperf
