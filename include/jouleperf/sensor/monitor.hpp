// Measuring windows of a program in three calls (Zeus's begin_window / end_window):
// Monitor::open picks and opens the sensors, starts sampling in the background, and
// each window is a Meter on the shared sampler. Windows may nest and overlap; each is
// named, and ending one returns its Measurement (per-domain energy, the energy source,
// whether it is estimated, the uncertainty and the duration). The window calls may come
// from several threads at once: a lock guards the open windows and the idle baseline, and
// the sensor reads at a window's edges happen outside it.
//
//   auto m = Monitor::open({}, clock);            // every readable sensor, else the CPU-time model
//   m.value()->begin_window("generate");
//   ... work ...
//   auto e = m.value()->end_window("generate");   // e->total.energy_j, e->total.energy_source, ...
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/factory.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {

struct MonitorOptions {
  SensorOptions sensors;   // which sensors (empty names: every readable hardware sensor, else cpu-model)
  SamplerConfig sampler;   // sampling rates
  bool background = true;  // sample on a background thread (false: the caller polls sampler())
  const SensorRegistry* registry = nullptr;  // families to open from; nullptr = default_sensor_registry()
};

class Monitor {
 public:
  // Opens the sensors and starts sampling on `clock` (which must outlive the Monitor).
  // Fails as open_sensors fails (an unknown or unusable named sensor: the error says why
  // and how to fix it) or as Sampler::start fails (a sensor that cannot be read at all).
  static Result<std::unique_ptr<Monitor>> open(const MonitorOptions& options, const Clock& clock);
  // The same over sensors the caller opened (a fake, or a hand-picked set).
  static Result<std::unique_ptr<Monitor>> over(SensorList sensors, const SamplerConfig& config, const Clock& clock,
                                               bool background = true);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Begins the window `name` now. kInvalidArgument when a window of that name is open or
  // the name is empty. Other windows, open or not, are unaffected.
  Status begin_window(const std::string& name);
  // Ends the window `name` now and returns what it measured (Measurement::total; no
  // phases). kNotFound when no window of that name is open; otherwise fails as
  // Meter::stop does (no good reading of some sensor inside the window), and the window
  // is closed either way.
  Result<Measurement> end_window(const std::string& name);
  // Names of the open windows, in name order.
  std::vector<std::string> open_windows() const;

  // Subtracted in every later window's above_idle_j: measured now for `duration` (the
  // machine should be idle) or given.
  Status measure_idle(Seconds duration);
  void set_idle(IdleBaseline idle);

  // What was tried and could not be used, with why (empty when named sensors all opened).
  const std::vector<SensorProblem>& problems() const { return problems_; }
  // True when every figure is estimated (the CPU-time model is all there is).
  bool estimated_only() const;
  // "cpu-model cpu-model:all, rapl package-0", in sampler order.
  std::string sensors() const;
  Sampler& sampler() { return *sampler_; }

 private:
  Monitor() = default;
  std::unique_ptr<Sampler> sampler_;
  std::vector<SensorProblem> problems_;
  mutable std::mutex mutex_;  // guards idle_ and windows_
  std::optional<IdleBaseline> idle_;
  std::map<std::string, std::unique_ptr<Meter>> windows_;  // null while its begin_window reads
};

}  // namespace jouleperf
