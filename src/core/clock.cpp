#include "jouleperf/core/clock.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <ctime>

namespace jouleperf {

Seconds SteadyClock::now() const {
  const auto d = std::chrono::steady_clock::now().time_since_epoch();
  return Seconds(std::chrono::duration<double>(d).count());
}

void SteadyClock::sleep_until(Seconds t) const {
  // One absolute-time sleep on CLOCK_MONOTONIC (what steady_clock reads on Linux), the
  // target rounded up to the next nanosecond so the sleeper never wakes just before it.
  const double ceil_ns = std::ceil(t.value() * 1e9);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ceil_ns / 1e9);
  ts.tv_nsec = static_cast<long>(ceil_ns - static_cast<double>(ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec += 1;
    ts.tv_nsec -= 1000000000L;
  } else if (ts.tv_nsec < 0) {
    ts.tv_nsec = 0;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void ManualClock::sleep_until(Seconds t) const {
  double cur = t_.load();
  while (cur < t.value() && !t_.compare_exchange_weak(cur, t.value())) {
  }
}

}  // namespace jouleperf
