#include "jouleperf/core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

namespace jouleperf {

Error errno_error(int err, std::string_view what) {
  Errc code = Errc::kIo;
  if (err == ENOENT || err == ENOTDIR) code = Errc::kNotFound;
  if (err == EACCES || err == EPERM) code = Errc::kPermissionDenied;
  if (err == ENODATA || err == EOPNOTSUPP) code = Errc::kUnsupported;
  return make_error(code, std::string(what) + ": " + std::strerror(err));
}

Result<std::string> read_text_file(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_error(errno != 0 ? errno : ENOENT, "cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return errno_error(errno != 0 ? errno : EIO, "cannot read " + path);
  return ss.str();
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

namespace {
template <class T>
Result<T> parse_integer(std::string_view s, const char* kind) {
  const std::string_view t = trim(s);
  if (t.empty()) return make_error(Errc::kParse, std::string("empty ") + kind);
  if (t.front() == '+')
    return make_error(Errc::kParse, std::string("unexpected sign in ") + kind + " '" + printable_excerpt(t) + "'");
  T v{};
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc::result_out_of_range)
    return make_error(Errc::kParse, std::string(kind) + " out of range: '" + printable_excerpt(t) + "'");
  if (ec != std::errc() || p != t.data() + t.size())
    return make_error(Errc::kParse, std::string("not a ") + kind + ": '" + printable_excerpt(t) + "'");
  return v;
}
}  // namespace

Result<std::uint64_t> parse_u64(std::string_view s) {
  if (!trim(s).empty() && trim(s).front() == '-')
    return make_error(Errc::kParse,
                      "negative value where an unsigned integer is required: '" + printable_excerpt(trim(s)) + "'");
  return parse_integer<std::uint64_t>(s, "unsigned integer");
}

Result<std::int64_t> parse_i64(std::string_view s) { return parse_integer<std::int64_t>(s, "integer"); }

Result<double> parse_double(std::string_view s) {
  std::string_view t = trim(s);
  if (t.empty()) return make_error(Errc::kParse, "empty number");
  if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (t == "+Inf" || t == "Inf") return std::numeric_limits<double>::infinity();
  if (t == "-Inf") return -std::numeric_limits<double>::infinity();
  std::string_view body = t;
  if (body.front() == '+') body.remove_prefix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec == std::errc::result_out_of_range)
    return make_error(Errc::kParse, "number out of range: '" + printable_excerpt(t) + "'");
  if (ec != std::errc() || p != body.data() + body.size())
    return make_error(Errc::kParse, "not a number: '" + printable_excerpt(t) + "'");
  return v;
}

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
