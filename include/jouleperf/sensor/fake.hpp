// Scripted fake sensors for tests: injected through the same factory and read by the
// same sampler and meter code as the real ones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/counter.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

// A piecewise-linear power profile P(t): straight lines between points (steps are two
// points at the same time), constant before the first point and after the last.
class PowerProfile {
 public:
  // Points must be added in non-decreasing time order.
  PowerProfile& point(Seconds t, Watts p);
  // Convenience: a step to `p` at time t (holds the previous level until t).
  PowerProfile& step(Seconds t, Watts p);
  Watts power(Seconds t) const;
  // Exact integral of P over [a, b], J.
  Joules energy(Seconds a, Seconds b) const;

 private:
  std::vector<std::pair<double, double>> pts_;  // (t_s, power_w)
};

// Reports power(clock.now()) of a profile; optionally fails on chosen read numbers.
class FakePowerSensor final : public Sensor {
 public:
  FakePowerSensor(SensorInfo info, PowerProfile profile, const Clock& clock);
  const SensorInfo& info() const override { return info_; }
  Result<Reading> read() override;

 private:
  SensorInfo info_;
  PowerProfile profile_;
  const Clock& clock_;
};

// Plays a scripted sequence of raw counter values or errors, one per read, repeating
// the last step once the script is exhausted. Raw values go through CounterUnwrapper
// exactly as RAPL's do, so wraps in the script exercise the real wrap handling: a
// decrease is a wrap at range_raw (a reset when range_raw is 0), bounded by
// info.caps.max_power_w (0 = unbounded) with info.caps.update_interval_s as slack; an
// implausible value comes back as Reading::rejected.
class FakeCounterSensor final : public Sensor {
 public:
  struct Step {
    std::optional<std::uint64_t> raw;  // counter value, or
    std::optional<Error> error;        // the error this read returns
  };
  FakeCounterSensor(SensorInfo info, std::vector<Step> script, std::uint64_t range_raw, double joules_per_raw,
                    const Clock& clock);
  const SensorInfo& info() const override { return info_; }
  Result<Reading> read() override;

 private:
  SensorInfo info_;
  std::vector<Step> script_;
  size_t next_ = 0;
  CounterUnwrapper unwrap_;
  const Clock& clock_;
};

}  // namespace jouleperf
