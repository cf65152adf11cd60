// Escaped, cut excerpts of untrusted text; URL credentials redacted.
#include "jouleperf/core/safe_text.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace jouleperf {

namespace {

// Length of the valid UTF-8 sequence (above ASCII) starting at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  // C1 controls (U+0080..U+009F) are escaped like C0 controls.
  if (c == 0xC2 && b(i + 1) <= 0x9F) return 0;
  return n;
}

}  // namespace

std::string printable_excerpt(std::string_view s, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 16);
  std::size_t i = 0;
  for (; i < s.size() && i < max_bytes;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n > 0 && i + n <= max_bytes) {
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
      if (n > 0) break;  // a character that would cross the cut
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
    ++i;
  }
  if (i < s.size()) out += "\xE2\x80\xA6 (" + std::to_string(s.size()) + " bytes)";
  return out;
}

namespace {

// [begin, end) of the userinfo-and-'@' of the URL whose "://" is at `sep`, or {0, 0}.
std::pair<std::size_t, std::size_t> userinfo_span(std::string_view s, std::size_t sep) {
  const std::size_t begin = sep + 3;
  std::size_t end = begin;
  std::size_t at = std::string_view::npos;
  while (end < s.size()) {
    const char c = s[end];
    if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '"' || c == '\'' || c == '<' || c == '>' ||
        static_cast<unsigned char>(c) < 0x20)
      break;
    if (c == '@') at = end;
    ++end;
  }
  if (at == std::string_view::npos) return {0, 0};
  return {begin, at + 1};
}

}  // namespace

std::string redact_url(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::string(url);
  const auto [b, e] = userinfo_span(url, sep);
  if (e == 0) return std::string(url);
  std::string out(url.substr(0, b));
  out += "***@";
  out.append(url.substr(e));
  return out;
}

std::string redact_urls_in(std::string_view text) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t sep = text.find("://"); sep != std::string_view::npos; sep = text.find("://", sep + 3)) {
    const auto [b, e] = userinfo_span(text, sep);
    if (e == 0) continue;
    out.append(text.substr(from, b - from));
    out += "***@";
    from = e;
  }
  out.append(text.substr(from));
  return out;
}

}  // namespace jouleperf
