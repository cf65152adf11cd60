// What `jouleperf sensors` finds, and starting the sampler every measuring command shares:
// the library side of the sensor flags (nothing here prints).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/core/units.hpp"
#include "jouleperf/sensor/factory.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {

// A sampler started on the sensors `open_sensors` chose, and what could not be used.
struct StartedSampler {
  std::unique_ptr<Sampler> sampler;
  std::vector<SensorProblem> problems;
  // The CPU-time model is all there is and no sensor was named: `notice` says so, with
  // why each hardware family was not usable (one line, then one indented line each).
  bool estimated_fallback = false;
  std::string notice;
};

// Opens the sensors `options` choose from `registry` and starts a background Sampler on
// `clock` (which must outlive it). Fails as open_sensors fails (an unknown or unusable
// named sensor) or as Sampler::start fails (a sensor that cannot be read at all).
Result<StartedSampler> start_sampler(const SensorRegistry& registry, const SensorOptions& options,
                                     const SamplerConfig& config, const Clock& clock);
// As start_sampler, but the Sampler is not started (nothing read yet): the caller sees
// which sensors are open (e.g. to take the node lock for them, sensor/node_lock.hpp)
// before calling Sampler::start. Fails as open_sensors fails.
Result<StartedSampler> open_sampler(const SensorRegistry& registry, const SensorOptions& options,
                                    const SamplerConfig& config, const Clock& clock);

// The notice when the CPU-time model is all there is: "no hardware energy sensor is
// readable here; using the CPU-time model (ESTIMATED)." and "\n  <family>: <why>" per problem.
std::string estimated_fallback_notice(const std::vector<SensorProblem>& problems);

// What a running sampler reads, for the terminal and the report.
struct SamplerSummary {
  bool estimated = false;  // some sensor's figures are estimates (the CPU-time model)
  std::string sensors;     // "cpu-model cpu-model:all, rapl package-0", in order
};
SamplerSummary summarize_sampler(const Sampler& sampler);

// One sensor found, with a live reading.
struct SurveyedSensor {
  SensorInfo info;
  EnergySource source = EnergySource::kCounter;
  std::optional<double> live_power_w;  // mean power over the window, W (empty: no reading)
  // What the sensor says of its device (Sensor::conditions: an NVML GPU's limit, its range,
  // clocks, temperature, throttle reasons...), read once after the window.
  std::vector<std::pair<std::string, std::string>> conditions;
};

struct SensorSurvey {
  std::vector<SurveyedSensor> sensors;
  std::vector<SensorProblem> unavailable;  // each family (or device) not usable here, with why
  std::string live_error;                  // the live reading failed: why ("" when it did not)
  double window_s = 0.0;
};

// Opens every family of `registry` one at a time (the named ones when options.names is
// set; prometheus only with URLs), then reads them together for `window`: mean power per
// sensor. Never fails: what fails is in `unavailable` and `live_error`.
SensorSurvey survey_sensors(const SensorRegistry& registry, const SensorOptions& options, const SamplerConfig& config,
                            Seconds window, const Clock& clock);

// The survey as a Document: tables "sensors" (sensor, domain, source, power_w, estimated,
// description) and "unavailable" (family, target, error, message), a footer when the live
// reading failed. JSON: {"sensors": [to_json(info) + "energy_source", "live_power_w",
// "live_window_s", "conditions": {key: value}], "unavailable": [{"name","target","error","message"}],
// "live_error"?}.
table::Document sensors_document(const SensorSurvey& survey);

}  // namespace jouleperf
