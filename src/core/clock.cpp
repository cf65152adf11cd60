#include "jouleperf/core/clock.hpp"

#include <chrono>
#include <thread>

namespace jouleperf {

Seconds SteadyClock::now() const {
  const auto d = std::chrono::steady_clock::now().time_since_epoch();
  return Seconds(std::chrono::duration<double>(d).count());
}

void SteadyClock::sleep_until(Seconds t) const {
  const auto target = std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t.value())));
  std::this_thread::sleep_until(target);
}

void ManualClock::sleep_until(Seconds t) const {
  double cur = t_.load();
  while (cur < t.value() && !t_.compare_exchange_weak(cur, t.value())) {
  }
}

}  // namespace jouleperf
