// The rules every number a user types must pass (command-line options and their
// JOULEPERF_<NAME> mirrors; docs/workloads.md, "Limits"): no empty value, no NaN or
// infinity, no negative value where none is meant, no integer overflow, and per quantity
// a stated range. Each check returns "" when the text is acceptable, else one line saying
// why (quoting the text); text that is no number at all is left to the caller's parser.
#pragma once

#include <string>

namespace jouleperf {

enum class NumberKind { kInteger, kUnsigned, kFloat };

// Empty text, a sign where `negative_ok` is false (always for kUnsigned), integer
// overflow, NaN and infinities for kFloat.
std::string check_number_text(NumberKind kind, bool negative_ok, const std::string& text);

// A range some quantities need beyond ">= 0": [lo, hi] (lo_open: (lo, hi]) in `unit`;
// `why` says where it comes from. hi >= kNoUpperBound means "no upper bound".
struct NumberRange {
  const char* name;  // what it applies to (the CLI: a long option name, without dashes)
  double lo, hi;
  bool lo_open;
  const char* unit;
  const char* why;
};

inline constexpr double kNoUpperBound = 1e300;

// "" when `text` is within `range` (or no finite number: check_number_text has spoken).
std::string check_number_range(const NumberRange& range, const std::string& text);

}  // namespace jouleperf
