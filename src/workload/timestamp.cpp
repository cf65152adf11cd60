#include "jouleperf/workload/timestamp.hpp"

#include <cstring>
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

// Parses "HH:MM:SS[.fraction][offset]" (trailing spaces allowed) starting at `pos` of
// `text`, for a date `days` days after the epoch.
Result<std::int64_t> parse_time_of_day(std::string_view text, std::size_t pos, std::int64_t days) {
  std::string_view s = text;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  int hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, second))
    return bad(text, "expected HH:MM:SS");
  if (hour > 23) return bad(text, "hour out of range");
  if (minute > 59) return bad(text, "minute out of range");
  if (second > 59) return bad(text, "second out of range");
  std::int64_t frac_ns = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    static constexpr std::int64_t kScale[9] = {100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
    int digits = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      if (digits < 9) frac_ns += (s[pos] - '0') * kScale[digits];
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
  // A local time at offset +HH:MM is that much ahead of UTC.
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  constexpr std::int64_t kMaxSecs = 9'000'000'000;  // about year 2255; int64 nanoseconds end in 2262
  if (secs > kMaxSecs || secs < -kMaxSecs) return bad(text, "outside the years 1685-2255");
  return secs * 1000000000 + frac_ns;
}

}  // namespace

Result<std::int64_t> DateTimeParser::parse(std::string_view text) {
  if (have_ && text.size() > 10 && std::memcmp(text.data(), date_, 10) == 0 && (text[10] == ' ' || text[10] == 'T')) {
    // Same date as the last row: parse only the time of day. parse_time_of_day applies
    // the same checks parse_datetime_ns does to this part.
    return parse_time_of_day(text, 11, days_);
  }
  auto full = parse_datetime_ns(text);
  if (full.ok() && text.size() > 10) {
    std::memcpy(date_, text.data(), 10);
    int y = 0, m = 0, d = 0;
    std::size_t pos = 0;
    read_digits(text, pos, 4, y);
    pos = 5;
    read_digits(text, pos, 2, m);
    pos = 8;
    read_digits(text, pos, 2, d);
    days_ = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    have_ = true;
  }
  return full;
}

bool DateTimeParser::parse_fast(const char*& p, const char* end, char stop, std::int64_t& ns) const {
  // "YYYY-MM-DD HH:MM:SS" is 19 bytes; the memo holds a validated date.
  if (!have_ || end - p < 19 || std::memcmp(p, date_, 10) != 0 || p[10] != ' ' || p[13] != ':' || p[16] != ':')
    return false;
  const auto d = [&](int i) { return static_cast<unsigned>(p[i] - '0'); };
  for (int i : {11, 12, 14, 15, 17, 18})
    if (d(i) > 9) return false;
  const unsigned hour = d(11) * 10 + d(12), minute = d(14) * 10 + d(15), second = d(17) * 10 + d(18);
  if (hour > 23 || minute > 59 || second > 59) return false;
  const char* q = p + 19;
  std::int64_t frac = 0;
  if (q != end && *q == '.') {
    static constexpr std::int64_t kScale[9] = {100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
    ++q;
    int digits = 0;
    while (q != end && static_cast<unsigned>(*q - '0') <= 9) {
      if (digits < 9) frac += (*q - '0') * kScale[digits];
      ++digits;
      ++q;
    }
    if (digits == 0) return false;
  }
  if (q == end || *q != stop) return false;
  ns = (days_ * 86400 + hour * 3600 + minute * 60 + second) * 1000000000 + frac;
  p = q;
  return true;
}

Result<std::int64_t> parse_datetime_ns(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') || !read_digits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_digits(text, pos, 2, day)) {
    if (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.back() == ' ' || text.back() == '\t')) {
      std::string_view t = text;
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (t.size() != text.size()) return parse_datetime_ns(t);
    }
    return bad(text, "expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad(text, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, month)) return bad(text, "day out of range");
  if (pos >= text.size() || (text[pos] != ' ' && text[pos] != 'T'))
    return bad(text, "expected ' ' or 'T' after the date");
  return parse_time_of_day(text, pos + 1,
                           days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)));
}

}  // namespace jouleperf::workload
