// Date-time parsing for trace timestamps.
#pragma once

#include <cstdint>
#include <string_view>

#include "jouleperf/core/result.hpp"

namespace jouleperf::workload {

// Parses "YYYY-MM-DD HH:MM:SS[.fraction][offset]" ('T' may replace the space) into
// nanoseconds since 1970-01-01T00:00:00 UTC. The fraction may have any number of
// digits (the Azure 2023 trace writes 7, the 2024 trace 6); digits past the ninth are
// dropped. The offset is "Z", "+HH:MM", "-HH:MM", "+HHMM" or "+HH"; without one the time
// is taken as UTC. Examples: "2023-11-16 18:17:03.9799600",
// "2024-05-10 00:00:00.009930+00:00". Fails with kParse saying what is wrong (bad
// shape, month 13, day 31 in April, hour 24, ...).
Result<std::int64_t> parse_datetime_ns(std::string_view text);

// parse_datetime_ns with a memo of the last date seen: consecutive rows of a trace share
// their date, so its validation and day count are done once. Same results and errors.
class DateTimeParser {
 public:
  Result<std::int64_t> parse(std::string_view text);

  // Fast path for the common case: `p` starts "YYYY-MM-DD HH:MM:SS[.digits]" with the
  // memo's date and the time ends at `stop`. On success sets `ns`, advances `p` to
  // `stop` and returns true; otherwise returns false and leaves `p` alone (use parse()).
  bool parse_fast(const char*& p, const char* end, char stop, std::int64_t& ns) const;

 private:
  char date_[10] = {};  // "YYYY-MM-DD" of the memo
  bool have_ = false;
  std::int64_t days_ = 0;
};

// Days since 1970-01-01 of a proleptic Gregorian date (no validation).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

}  // namespace jouleperf::workload
