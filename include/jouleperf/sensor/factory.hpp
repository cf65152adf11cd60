// Choosing and opening sensors by name. The registry is an object (no global state):
// the CLI uses default_sensor_registry(); tests add a "fake" family to it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sensor/nvml.hpp"
#include "jouleperf/sensor/prometheus.hpp"
#include "jouleperf/sensor/rapl.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

// Everything a command that measures accepts about sensors.
struct SensorOptions {
  std::vector<std::string> names;  // --sensor; empty = every readable hardware sensor, else cpu-model
  RaplOptions rapl;
  NvmlOptions nvml;
  PrometheusOptions prometheus;
  CpuModelOptions cpu_model;
};

using SensorList = std::vector<std::unique_ptr<Sensor>>;

// Opens every sensor of one family. Problems with single devices go to `problems`;
// an error means the family is unusable here (the message says why).
using SensorOpener =
    std::function<Result<SensorList>(const SensorOptions&, const Clock&, std::vector<SensorProblem>& problems)>;

struct SensorFamily {
  std::string name;         // what --sensor accepts
  std::string description;  // one line for --help and `jouleperf sensors`
  bool hardware = true;     // probed when no --sensor is given; false for models and fakes
  SensorOpener open;
};

class SensorRegistry {
 public:
  void add(SensorFamily family);
  const SensorFamily* find(const std::string& name) const;
  const std::vector<SensorFamily>& families() const { return families_; }

 private:
  std::vector<SensorFamily> families_;
};

// rapl, nvml, prometheus (hardware) and cpu-model (estimated fallback).
SensorRegistry default_sensor_registry();

struct SensorSet {
  SensorList sensors;
  std::vector<SensorProblem> problems;  // what was tried and could not be used, with why
};

// Opens sensors. With names: exactly those families, and any that cannot be opened is
// an error (an unknown name is kInvalidArgument listing the known ones). Without
// names: every hardware family that yields a sensor (prometheus only when URLs are
// given, and then an endpoint that fails is an error); if none does, cpu-model.
// Never returns an empty set without an error.
Result<SensorSet> open_sensors(const SensorRegistry& registry, const SensorOptions& opts, const Clock& clock);

}  // namespace jouleperf
