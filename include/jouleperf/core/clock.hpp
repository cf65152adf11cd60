// Clocks are objects passed down (no global time source), so tests can drive time.
// Every timestamp in jouleperf — sensor readings, phase marks, token times — is a
// Seconds value on one monotonic clock.
#pragma once

#include <atomic>

#include "jouleperf/core/units.hpp"

namespace jouleperf {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since an arbitrary fixed origin; never decreases. Thread-safe.
  virtual Seconds now() const = 0;
  // Blocks the calling thread until now() >= t (returns at once if already past).
  virtual void sleep_until(Seconds t) const = 0;
};

// std::chrono::steady_clock (CLOCK_MONOTONIC on Linux).
class SteadyClock final : public Clock {
 public:
  Seconds now() const override;
  void sleep_until(Seconds t) const override;
};

// A clock that moves only when told: for deterministic tests. sleep_until advances
// the clock to t instead of blocking, so single-threaded loops run instantly.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Seconds start = Seconds(0.0)) : t_(start.value()) {}
  Seconds now() const override { return Seconds(t_.load()); }
  void sleep_until(Seconds t) const override;
  void advance(Seconds dt) { t_.store(t_.load() + dt.value()); }
  void set(Seconds t) { t_.store(t.value()); }

 private:
  mutable std::atomic<double> t_;
};

}  // namespace jouleperf
