#include "jouleperf/core/number_rules.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace jouleperf {

namespace {

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  return s;
}

// `text` read whole as a double (NaN and infinities included); nullopt when it is no number.
std::optional<double> read_double(const std::string& text) {
  if (trim_left(text).empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;  // strtod returns +-HUGE_VAL (an infinity) on overflow
}

}  // namespace

std::string check_number_text(NumberKind kind, bool negative_ok, const std::string& value) {
  const std::string_view s = trim_left(value);
  if (s.empty()) return "an empty value is not a number (give one, or leave the option out)";
  const bool negative = s.front() == '-';
  switch (kind) {
    case NumberKind::kUnsigned: {
      if (negative) return fmt::format("{} is negative; expected a whole number >= 0", value);
      errno = 0;
      char* end = nullptr;
      std::strtoull(value.c_str(), &end, 0);
      if (errno == ERANGE) return fmt::format("{} is too large for a whole number (at most 2^64 - 1)", value);
      return {};
    }
    case NumberKind::kInteger: {
      if (negative && !negative_ok) return fmt::format("{} is negative; expected a whole number >= 0", value);
      errno = 0;
      char* end = nullptr;
      std::strtoll(value.c_str(), &end, 0);
      if (errno == ERANGE) return fmt::format("{} is out of range for a whole number", value);
      return {};
    }
    case NumberKind::kFloat: {
      const auto v = read_double(value);
      if (!v) return {};
      if (!std::isfinite(*v)) return fmt::format("{} is not a finite number", value);
      if (*v < 0 && !negative_ok) return fmt::format("{} is negative; expected a number >= 0", value);
      return {};
    }
  }
  return {};
}

std::string check_number_range(const NumberRange& r, const std::string& value) {
  const auto v = read_double(value);
  if (!v || !std::isfinite(*v)) return {};  // check_number_text has spoken, or the parser will
  const bool low = r.lo_open ? !(*v > r.lo) : !(*v >= r.lo);
  if (!low && *v <= r.hi) return {};
  const std::string unit = *r.unit ? std::string(" ") + r.unit : std::string();
  if (r.hi >= kNoUpperBound)
    return fmt::format("{} is out of range; expected a number > {:.15g}{} ({})", value, r.lo, unit, r.why);
  return fmt::format("{} is out of range; expected {:.15g} {} {:.15g}{} ({})", value, r.lo,
                     r.lo_open ? "(exclusive) to" : "to", r.hi, unit, r.why);
}

}  // namespace jouleperf
