// NVIDIA GPUs through NVML, loaded at run time with dlopen (no build-time dependency).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct NvmlOptions {
  std::string library = "libnvidia-ml.so.1";  // --nvml-lib, env JOULEPERF_NVML_LIB: name or path for dlopen
  bool counter_power = true;  // GPUs with the energy counter also report power (one more NVML call per read)
};

// Opens one sensor per GPU. A GPU with nvmlDeviceGetTotalEnergyConsumption (Volta and
// newer) is a counter (mJ); one where it returns NOT_SUPPORTED falls back to
// nvmlDeviceGetPowerUsage (mW), integrated over time by the meter. Fails with
// kNotFound when the library cannot be loaded, kUnsupported when it lacks a required
// symbol (the message names it), and with the mapped NVML error otherwise (nvmlInit_v2,
// nvmlDeviceGetCount_v2). A single GPU that cannot be used (no handle, no permission,
// neither counter nor power) goes to `problems` with the NVML error text, and the
// other GPUs are still returned; the list is empty when NVML sees no usable GPU. The
// sensors share one loaded library: nvmlShutdown and dlclose run after the last one is
// destroyed. Domains are "gpu:N" (N = NVML index), descriptions the product names.
Result<std::vector<std::unique_ptr<Sensor>>> open_nvml_sensors(const NvmlOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems);

}  // namespace jouleperf
