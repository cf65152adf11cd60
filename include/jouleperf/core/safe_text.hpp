// Untrusted text made safe to show: quoted input escaped and cut in error messages, and
// URL credentials redacted wherever a URL is stored or shown.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace jouleperf {

// Untrusted text made safe to quote in a one-line error message: control characters
// (escape sequences, newlines, NUL, DEL, the C1 range) written as \n, \t, \r or \xNN, a
// backslash as \\, and input longer than `max_bytes` cut there (never inside a UTF-8
// character) with "… (N bytes)" naming the full length. Valid UTF-8 above ASCII is kept.
std::string printable_excerpt(std::string_view s, std::size_t max_bytes = 200);

// `url` with the userinfo of its authority (the "user:password@" of
// "http://user:password@host/path") replaced by "***@"; anything else unchanged. For
// every place a URL is stored or shown; the request itself uses the real URL.
std::string redact_url(std::string_view url);

// `text` with the userinfo of every "scheme://user:password@host" inside it redacted as
// redact_url does (for error messages from libraries that quote the URL).
std::string redact_urls_in(std::string_view text);

}  // namespace jouleperf
