// The Sampler: one thread that polls the chosen sensors on one monotonic clock into
// preallocated ring buffers, and keeps each sensor's cumulative energy since start.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/counter.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct SamplerConfig {
  double hz = 100.0;                  // read rate of power sensors, Hz (env JOULEPERF_HZ)
  double counter_hz = 10.0;           // read rate of counter sensors, Hz; 0 = same as hz. A sensor's
                                      // own poll_interval_s caps either rate.
  std::size_t ring_capacity = 65536;  // samples kept per sensor (about 11 minutes at 100 Hz)
};

// Plausibility (docs/sensors.md): a reading the sensor marks rejected, a power that is
// NaN, infinite, negative or above the sensor's caps.max_power_w, or a counter energy that
// is not finite or goes down, is rejected: counted in reads_rejected, never stored and
// never integrated. A power sensor's trapezoid then spans from the last good sample to
// the next good one (as across a failed read); a counter needs nothing: the delta between
// two good values is valid. A counter sample's extra power value that is implausible is
// dropped (stored as NaN) without rejecting its energy.
//
// One stored reading. energy_j is the cumulative energy since the sampler's first
// reading of the sensor: the unwrapped counter, or the running trapezoid integral of
// power for sensors without a counter. power_w is NaN when the sensor gives no power.
struct Sample {
  double t_s = 0.0;
  double energy_j = 0.0;
  double power_w = 0.0;
};

// A sensor's state at one instant, for the Meter.
struct SensorSnapshot {
  Seconds t;                         // time of the reading `energy` refers to
  Joules energy;                     // cumulative since the sampler started
  Joules sampling_bound;             // power sensors: cumulative bound on the trapezoid's error,
                                     // sum of |P(i+1) - P(i)| * dt / 2 (a step anywhere inside a
                                     // sampling interval is off by at most that); 0 for counters
  std::uint64_t reads_ok = 0;        // successful reads so far
  std::uint64_t reads_failed = 0;    // failed reads so far (I/O, permission, parse errors)
  std::uint64_t reads_rejected = 0;  // reads whose value was physically implausible, so far
  std::uint64_t counter_gaps = 0;    // counter re-bases after rejected values so far
  double gap_s = 0.0;                // seconds those gaps span, in total (their energy is unknown)
  bool fresh = false;                // false: this read failed or was rejected, and `energy` is
                                     // from the last good one
  std::optional<Error> last_error;
  std::optional<std::string> last_rejection;  // why the latest rejected read was rejected
};

class Sampler {
 public:
  // Takes ownership of the sensors. `clock` must outlive the sampler and be the same
  // clock the sensors were given.
  Sampler(std::vector<std::unique_ptr<Sensor>> sensors, SamplerConfig config, const Clock& clock);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Reads every sensor once (fails naming the sensor if one cannot be read) and, when
  // `background` is true, starts the polling thread. Call once.
  Status start(bool background = true);
  // Stops the polling thread (idempotent). Readings stay available.
  void stop();

  // Reads every sensor now, from the calling thread, and returns their states in
  // sensor order. A failed read keeps the last good energy (fresh = false).
  std::vector<SensorSnapshot> snapshot();
  // Reads the sensors that are due at the clock's current time; what the polling
  // thread runs each wake-up. Public so tests can drive the sampler with a ManualClock.
  void poll_due();

  std::size_t size() const { return tracks_.size(); }
  const SensorInfo& info(std::size_t i) const;
  EnergySource source(std::size_t i) const;
  // Read period in use for sensor i, s.
  double period_s(std::size_t i) const;
  // Copy of sensor i's ring, oldest first. `dropped` (if given) receives how many older
  // samples the ring has overwritten.
  std::vector<Sample> samples(std::size_t i, std::uint64_t* dropped = nullptr) const;
  // Conditions of every sensor (model names, limits, clocks), prefixed by domain.
  std::vector<std::pair<std::string, std::string>> conditions();
  const Clock& clock() const { return clock_; }

 private:
  struct Track;
  void read_track(Track& tr);  // caller holds tr.mu
  double poll_due_next();      // poll_due(), returning when the next sensor is due, s
  void run();

  const Clock& clock_;
  SamplerConfig config_;
  std::vector<std::unique_ptr<Track>> tracks_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  bool started_ = false;
};

}  // namespace jouleperf
