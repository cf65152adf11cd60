// NVIDIA GPUs through NVML, loaded at run time with dlopen (no build-time dependency).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct NvmlOptions {
  std::string library = "libnvidia-ml.so.1";  // env JOULEPERF_NVML_LIB
};

// Opens one sensor per GPU. A GPU with nvmlDeviceGetTotalEnergyConsumption (Volta and
// newer) is a counter (mJ); one where it returns NOT_SUPPORTED falls back to
// nvmlDeviceGetPowerUsage (mW), integrated over time by the meter. Fails with
// kNotFound when the library cannot be loaded, kUnsupported when it lacks a required
// symbol (the message names it), and with the mapped NVML error otherwise.
Result<std::vector<std::unique_ptr<Sensor>>> open_nvml_sensors(const NvmlOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems);

}  // namespace jouleperf
