// Shrinking a workload's lengths so that a sweep of it runs in minutes, without moving
// any request to another bin.
#pragma once

#include <cstdint>

namespace jouleperf::workload {

// ceil(tokens / divisor), at least 1 (divisor 0 or 1: tokens, at least 1). A request in the
// bin (lo, hi] lands in (lo / divisor, hi / divisor] when lo and hi are multiples of the
// divisor, so binning scaled lengths on scaled edges gives the same counts.
std::uint32_t scale_length_down(std::uint32_t tokens, std::uint32_t divisor);

}  // namespace jouleperf::workload
