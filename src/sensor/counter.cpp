#include "jouleperf/sensor/counter.hpp"

namespace jouleperf {

Joules CounterUnwrapper::update(std::uint64_t raw) {
  if (last_.has_value()) {
    const std::uint64_t prev = *last_;
    if (raw >= prev) {
      total_raw_ += static_cast<long double>(raw - prev);
    } else {
      ++wraps_;
      if (range_ > 0 && prev <= range_) {
        total_raw_ += static_cast<long double>(range_ - prev) + static_cast<long double>(raw);
      } else {
        total_raw_ += static_cast<long double>(raw);  // reset: counting restarted at zero
      }
    }
  }
  last_ = raw;
  return Joules(static_cast<double>(total_raw_ * static_cast<long double>(scale_)));
}

}  // namespace jouleperf
