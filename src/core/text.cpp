#include "jouleperf/core/text.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "jouleperf/core/safe_text.hpp"

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

}  // namespace jouleperf
