#include "jouleperf/workload/timestamp.hpp"

#include <string>

namespace jouleperf::workload {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm.
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[pos], advancing pos.
bool read_digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  out = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

unsigned days_in_month(int y, int m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

Error bad(std::string_view text, const char* why) {
  return make_error(Errc::kParse, std::string("bad timestamp '") + std::string(text.substr(0, 40)) + "': " + why);
}

}  // namespace

Result<std::int64_t> parse_datetime_ns(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) || !expect(s, pos, '-') ||
      !read_digits(s, pos, 2, day))
    return bad(text, "expected YYYY-MM-DD");
  if (pos >= s.size() || (s[pos] != ' ' && s[pos] != 'T')) return bad(text, "expected ' ' or 'T' after the date");
  ++pos;
  if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, second))
    return bad(text, "expected HH:MM:SS");
  if (month < 1 || month > 12) return bad(text, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, month)) return bad(text, "day out of range");
  if (hour > 23) return bad(text, "hour out of range");
  if (minute > 59) return bad(text, "minute out of range");
  if (second > 59) return bad(text, "second out of range");
  std::int64_t frac_ns = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    std::int64_t scale = 100000000;
    while (pos < s.size() && is_digit(s[pos])) {
      if (digits < 9) {
        frac_ns += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad(text, "no digits after the decimal point");
  }
  std::int64_t offset_s = 0;
  if (pos < s.size()) {
    const char c = s[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!read_digits(s, pos, 2, oh)) return bad(text, "bad UTC offset");
      if (pos < s.size()) {
        if (s[pos] == ':') ++pos;
        if (!read_digits(s, pos, 2, om)) return bad(text, "bad UTC offset");
      }
      if (oh > 23 || om > 59) return bad(text, "UTC offset out of range");
      offset_s = (oh * 3600 + om * 60) * (c == '-' ? -1 : 1);
    }
    if (pos != s.size()) return bad(text, "unexpected text after the time");
  }
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  // A local time at offset +HH:MM is that much ahead of UTC.
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  constexpr std::int64_t kMaxSecs = 9'000'000'000;  // about year 2255; int64 nanoseconds end in 2262
  if (secs > kMaxSecs || secs < -kMaxSecs) return bad(text, "outside the years 1685-2255");
  return secs * 1000000000 + frac_ns;
}

}  // namespace jouleperf::workload
