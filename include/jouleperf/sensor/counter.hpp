// Undoes wraparound and resets of cumulative energy counters, and rejects steps that
// no hardware could produce (docs/sensors.md, "Plausibility").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "jouleperf/core/units.hpp"

namespace jouleperf {

// What a decrease of the raw value can mean.
enum class CounterDecrease {
  kWrap,   // the counter wrapped at range_raw (RAPL max_energy_range_uj); with range 0 no
           // wrap is possible and every decrease is rejected
  kReset,  // the counter restarted at zero (a Prometheus counter after an exporter restart,
           // NVML after a driver reload), as Prometheus' increase() treats it
};

struct CounterOptions {
  std::uint64_t range_raw = 0;  // wrap modulus in raw units (kWrap); 0 = unknown
  double joules_per_raw = 1.0;  // the unit, e.g. 1e-6 for microjoules
  CounterDecrease on_decrease = CounterDecrease::kWrap;
  double max_power_w = 0.0;          // physical bound on the mean power between two
                                     // accepted values, W; 0 = no bound (test fakes)
  double slack_s = 0.0;              // added to every read interval before applying the
                                     // bound: how stale a value may be (the counter's update
                                     // interval), so a coarse step is not mistaken for a spike
  std::string range_name = "range";  // how error messages name range_raw ("max_energy_range_uj")
};

// One value judged against the counter's history.
struct CounterUpdate {
  Joules energy;                        // accumulated since the first accepted value; unchanged when rejected
  std::optional<std::string> rejected;  // set: the value is implausible and was not used (why, with figures)
  bool rebased = false;  // the counter was re-based on a value rejected earlier (it really moved to a new
                         // base): the energy between the last good value and that one is unknown, NOT in `energy`
  double gap_s = 0.0;    // when rebased: the seconds that unknown stretch lasted
  bool wrapped = false;  // the step was a wrap or a reset
};

// Turns successive raw counter values into a monotonically increasing energy, rejecting
// impossible steps. Each value is compared with the last accepted one, over the time
// between them plus slack_s, against max_power_w:
//  - an increase is accepted when it implies at most max_power_w;
//  - a decrease is a wrap (kWrap) only when (range - previous + current) implies at most
//    max_power_w, a reset (kReset) only when `current` does; anything else, and any
//    decrease with kWrap and range 0, is rejected.
// A rejected value leaves the accumulated energy and the reference value unchanged, so a
// later good value is bridged from the last good one (a delta between two good values is
// valid whatever happened in between). A value that is implausible against the last good
// one but plausible against the last rejected one means the counter really moved to a new
// base: it is accepted from that base, and the time between the last good value and the
// rejected one is reported as a gap (its energy unknown, never guessed).
class CounterUnwrapper {
 public:
  explicit CounterUnwrapper(CounterOptions opts) : opts_(std::move(opts)) {}
  // Unbounded (max_power_w 0): a decrease is a wrap at range_raw, or a reset when range_raw is 0.
  CounterUnwrapper(std::uint64_t range_raw, double joules_per_raw);

  // A judgement of one value, made without changing the unwrapper (see apply()).
  struct Verdict {
    enum class Kind { kFirst, kAdvance, kWrap, kRebase, kRejected };
    Kind kind = Kind::kFirst;
    std::uint64_t raw = 0;
    double t_s = 0.0;
    long double delta_raw = 0;  // raw units to add (kAdvance, kWrap, kRebase)
    double gap_s = 0.0;         // kRebase
    bool wrapped = false;       // kWrap, or a kRebase whose step from the base wrapped
    std::string reason;         // kRejected
  };

  // Judges `raw`, read at time t (on the sensor's clock), without changing any state.
  Verdict judge(std::uint64_t raw, Seconds t) const;
  // Applies a verdict returned by judge() on this unwrapper (and not applied yet).
  CounterUpdate apply(const Verdict& v);
  // judge() then apply().
  CounterUpdate update(std::uint64_t raw, Seconds t) { return apply(judge(raw, t)); }

  Joules energy() const;
  // Wraps (or resets) accepted so far.
  std::uint64_t wraps() const { return wraps_; }
  // Values rejected so far.
  std::uint64_t rejected() const { return rejected_; }
  // Re-bases after rejected values so far (each one a gap of unknown energy).
  std::uint64_t rebases() const { return rebases_; }
  const CounterOptions& options() const { return opts_; }

 private:
  struct Point {
    std::uint64_t raw;
    double t_s;
  };
  // The step from `from` to `raw` at t: kAdvance/kWrap with its delta, or kRejected with why.
  Verdict step(const Point& from, std::uint64_t raw, double t_s) const;

  CounterOptions opts_;
  std::optional<Point> last_;     // last accepted value
  std::optional<Point> pending_;  // last rejected value since then
  long double total_raw_ = 0;
  std::uint64_t wraps_ = 0;
  std::uint64_t rejected_ = 0;
  std::uint64_t rebases_ = 0;
};

}  // namespace jouleperf
