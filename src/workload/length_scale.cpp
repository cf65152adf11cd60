#include "jouleperf/workload/length_scale.hpp"

#include <algorithm>

namespace jouleperf::workload {

std::uint32_t scale_length_down(std::uint32_t tokens, std::uint32_t divisor) {
  if (divisor <= 1) return std::max<std::uint32_t>(tokens, 1);
  const std::uint32_t s = tokens / divisor + (tokens % divisor != 0 ? 1u : 0u);
  return std::max<std::uint32_t>(s, 1);
}

}  // namespace jouleperf::workload
