// Undoes wraparound and resets of cumulative energy counters.
#pragma once

#include <cstdint>
#include <optional>

#include "jouleperf/core/units.hpp"

namespace jouleperf {

// Turns successive raw counter values into a monotonically increasing energy.
// With a known range (RAPL max_energy_range_uj) a decrease is one wrap:
// delta = (range - previous) + current. With range 0 (unknown, e.g. a Prometheus
// counter) a decrease is a counter reset, as Prometheus' increase() treats it:
// delta = current. Reading more often than once per wrap period is the caller's job
// (RAPL wraps after tens of minutes at full power).
class CounterUnwrapper {
 public:
  // range_raw: the counter's maximum value in raw units (0 = unknown);
  // joules_per_raw: the unit, e.g. 1e-6 for microjoules.
  CounterUnwrapper(std::uint64_t range_raw, double joules_per_raw) : range_(range_raw), scale_(joules_per_raw) {}

  // Feeds one raw value; returns the energy accumulated since the first value.
  Joules update(std::uint64_t raw);
  // Number of wraps (or resets) seen so far.
  std::uint64_t wraps() const { return wraps_; }

 private:
  std::uint64_t range_;
  double scale_;
  std::optional<std::uint64_t> last_;
  long double total_raw_ = 0;
  std::uint64_t wraps_ = 0;
};

}  // namespace jouleperf
