// The one Sensor interface every energy source implements (RAPL, NVML, Prometheus
// exporters, the CPU-time model, the scripted fake), and the vocabulary the sampler
// and meter use to describe where a figure came from.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/core/units.hpp"

namespace jouleperf {

// How an energy figure was obtained (DESIGN.md §3, best first).
enum class EnergySource {
  kCounter,        // delta of a cumulative hardware energy counter
  kPowerIntegral,  // trapezoid integral of sampled power
  kCpuTimeModel,   // estimated from CPU utilization; never a measurement
};

// "counter", "power-integral", "cpu-time-model".
std::string_view energy_source_name(EnergySource s);

struct SensorCapabilities {
  bool energy_counter = false;      // read() returns a cumulative energy
  bool power = false;               // read() returns an instantaneous (or short-average) power
  bool estimated = false;           // figures come from a model, not from hardware
  bool cpu_time_model = false;      // the CPU-time power model: source is kCpuTimeModel; other
                                    // estimated sensors (e.g. Kepler's estimator) keep the source
                                    // of their mechanism (counter / power-integral), estimated = true
  double resolution_j = 0.0;        // smallest counter step, J (0 when unknown or no counter)
  double power_resolution_w = 0.0;  // smallest power step, W (0 when unknown or no power)
  double update_interval_s = 0.0;   // how often the hardware refreshes the value, s (0 = unknown)
  double poll_interval_s = 0.0;     // shortest useful read period, s (0 = as fast as the sampler)
  bool in_total = true;             // false for sub-domains (RAPL core/uncore, psys) whose
                                    // energy is already inside another domain of the total
  double max_power_w = 0.0;         // physical bound on the power this sensor can report, W (0 = none
                                    // known): a reading or counter step above it is rejected
                                    // (docs/sensors.md, "Plausibility")
};

struct SensorInfo {
  std::string name;         // family: "rapl", "nvml", "prometheus", "cpu-model", "fake"
  std::string domain;       // what is measured: "cpu-package:0", "dram:0", "gpu:0", "node:host:9400"
  std::string description;  // human detail: zone path, GPU model, exporter URL
  SensorCapabilities caps;
  std::string device_uuid = {};  // the device's id, the same in every process on the node: NVML's GPU
                                 // UUID ("GPU-..."); "" for families without one, or when unknown
};

// One reading. At least one of energy and power is set, unless `rejected` is.
struct Reading {
  Seconds t;                     // when read, on the clock the sensor was given (monotonic)
  std::optional<Joules> energy;  // cumulative energy since an arbitrary origin, wraps already undone
  std::optional<Watts> power;    // instantaneous power
  // Set when the sensor read a value that is physically implausible (a counter that went
  // down without a plausible wrap, a jump above the power bound, a NaN, negative or
  // too-high power): why, with the figures. energy and power are then unset: the sample
  // must not be used, and counts as rejected, not as zero.
  std::optional<std::string> rejected;
  // True when a counter re-based on a value it had rejected before (the counter really
  // moved to a new base): `energy` continues from that base, and the energy over the
  // gap_s seconds between the last good value and the rejected one is unknown.
  bool rebased = false;
  double gap_s = 0.0;
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  virtual const SensorInfo& info() const = 0;
  // Reads the hardware now. Not thread-safe: the Sampler serializes calls.
  // Errors keep their kind (kPermissionDenied, kUnsupported, kNetwork, ...); never a zero.
  virtual Result<Reading> read() = 0;
  // Facts for the run's conditions record (GPU name, power limit, temperature,
  // clock...), as key/value text. Best effort: a fact that cannot be read is omitted.
  virtual std::vector<std::pair<std::string, std::string>> conditions() { return {}; }
};

// A sensor family or device that could not be used, and why (for `jouleperf sensors`).
struct SensorProblem {
  std::string name;    // sensor family ("rapl", "nvml", ...)
  std::string target;  // what was tried: a zone path, a library, a URL
  Error error;         // why; the message says how to fix it where there is a fix
};

}  // namespace jouleperf
