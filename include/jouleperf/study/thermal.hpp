// The thermal protocol of a sweep (issue 19, docs/controls.md): a cool-down gate before a
// batch of another cell, a warm-up to steady temperature before a configuration's first
// measured cell, and what the devices did during each repetition. Over a DeviceWatch of
// the GPUs measured (NVML) and the CPU's thermal zones (--thermal-root).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/record/device_thermal.hpp"
#include "jouleperf/sensor/device_watch.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf::study {

struct ThermalOptions {
  // Cool-down gate: with cooldown_temp_c, wait until every device is at or below it, at
  // most cooldown_s (default cooldown_max_s; a wait that ends hotter says reached=false);
  // with cooldown_s alone, wait that long.
  std::optional<double> cooldown_temp_c;
  std::optional<double> cooldown_s;
  double cooldown_max_s = 600.0;
  // Warm-up to steady state: run the configuration's batch until every device's
  // temperature slope over the last steady_window_s is below steady_slope_c_per_min, or
  // warmup_max_s has passed (the cells then say they were measured unsteady).
  bool warm_to_steady = false;
  double steady_slope_c_per_min = 2.0;  // above 1.5: one 1 C step of an integer sensor over the window
  double steady_window_s = 60.0;
  double warmup_max_s = 600.0;
  double poll_s = 0.25;  // how often the devices are read, s
  bool gates() const { return cooldown_temp_c || cooldown_s || warm_to_steady; }
};

// kInvalidArgument naming the option for a value that is not positive (a cool-down target
// may be any temperature), or a steady window longer than the warm-up cap.
Status validate(const ThermalOptions& o);

// Waits as the gate says, polling every o.poll_s; reads the devices (the hottest at the
// end is recorded). The gates go by the GPUs when any is watched, else by every device.
// Stops early, reached=false, when `stop` is set. Fails as DeviceWatch::read_now fails
// (no device answered).
Result<record::CoolDown> cool_down(DeviceWatch& watch, const ThermalOptions& o, const Clock& clock,
                                   const std::atomic<bool>* stop);

// The steepest temperature slope of any device over the samples, C per minute (least
// squares per device); nullopt when no device has a temperature, or one has fewer than
// two (its slope is unknown, so it is not known to be steady).
std::optional<double> steepest_slope_c_per_min(const std::vector<DeviceSample>& samples);

// Runs `batch` until steady (as ThermalOptions says) and returns what happened, for the
// cell's conditions: {"steady", "batches", "ran_s", "slope_c_per_min", "window_s",
// "threshold_c_per_min", "temp_c"}; with "stopped" (the batch's error) when a batch
// failed, which ends the warm-up (the cell's own run then meets the error).
nlohmann::json warm_until_steady(DeviceWatch& watch, const ThermalOptions& o, const Clock& clock,
                                 const std::function<Status()>& batch, const std::atomic<bool>* stop);

// The devices a measured sweep watches: one NVML probe per GPU the sampler measures
// (loading `nvml_library` only when there is one) and the CPU's thermal zones under
// `thermal_root` and its hwmon temperatures under `hwmon_root` (cpu_hwmon_probes); started
// on `clock` every o.poll_s. nullptr when there is none — then
// kInvalidArgument if o.gates() (nothing to read a temperature from: say how to give one).
// Fails as NvmlLibrary::open, nvml_probe, thermal_zone_probes or cpu_hwmon_probes fail.
Result<std::unique_ptr<DeviceWatch>> watch_devices(const Sampler* sampler, const std::string& nvml_library,
                                                   const std::string& thermal_root, const std::string& hwmon_root,
                                                   const ThermalOptions& o, const Clock& clock);

// The "power-trace" document of a sweep (the report's power-over-time chart): the sampler's
// power over [t0_s, t1_s] (online.hpp power_series, at most max_points) and every watched
// device's temperature, "temperatures": [{"t_s", "device", "temp_c"}] (t_s from t0_s).
nlohmann::json sweep_power_trace(Sampler& sampler, const DeviceWatch& watch, double t0_s, double t1_s,
                                 std::size_t max_points);

// A DeviceWindow as stored in a repetition (throttle bits as NVML's reason names).
record::DeviceThermal to_record(const DeviceWindow& w);

}  // namespace jouleperf::study
