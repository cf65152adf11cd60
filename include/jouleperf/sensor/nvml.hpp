// NVIDIA GPUs through NVML, loaded at run time with dlopen (no build-time dependency).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct NvmlOptions {
  std::string library = "libnvidia-ml.so.1";  // --nvml-lib, env JOULEPERF_NVML_LIB: name or path for dlopen
  bool counter_power = true;  // GPUs with the energy counter also report power (one more NVML call per read)
  // Physical bound on each GPU's power, W, overriding the per-GPU one (see below).
  std::optional<double> max_power_w;
  // The GPUs to open, as CUDA_VISIBLE_DEVICES names them (indices, UUIDs or their
  // prefixes; sensor/nvml_visible.hpp): nullopt opens every GPU NVML sees, "" none. The
  // library never reads the environment: the CLI passes the variable's value.
  std::optional<std::string> visible_devices;
};

// Default bound when NVML gives no maximum power limit for a GPU, W: above any board
// shipped so far (B200: 1,000 W; GB200 superchip: 2,700 W is two GPUs and a CPU).
inline constexpr double kNvmlDefaultMaxPowerW = 2000.0;

// Opens one sensor per GPU. A GPU with nvmlDeviceGetTotalEnergyConsumption (Volta and
// newer) is a counter (mJ); one where it returns NOT_SUPPORTED falls back to
// nvmlDeviceGetPowerUsage (mW), integrated over time by the meter. Fails with
// kNotFound when the library cannot be loaded, kUnsupported when it lacks a required
// symbol (the message names it), and with the mapped NVML error otherwise (nvmlInit_v2,
// nvmlDeviceGetCount_v2). A single GPU that cannot be used (no handle, no permission,
// neither counter nor power) goes to `problems` with the NVML error text, and the
// other GPUs are still returned; the list is empty when NVML sees no usable GPU. The
// sensors share one loaded library: nvmlShutdown and dlclose run after the last one is
// destroyed. Domains are "gpu:N" (N = NVML index), descriptions the product names,
// device_uuid the GPU's UUID (nvmlDeviceGetUUID; "" when the library lacks it).
// With opts.visible_devices only the GPUs it names are opened (select_visible_gpus; its
// errors are returned as they are, e.g. kNotFound naming an entry that names no GPU,
// kUnsupported for a MIG instance); an empty value opens none, with a problem saying so.
// Conditions per GPU: name, uuid, driver_version, power_limit_w, temperature_c,
// sm_clock_mhz, power_limit_range_w ("min..max"), default_power_limit_w, max_sm_clock_mhz,
// graphics_clocks_mhz ("lowest..highest (N clocks)"), slowdown_temp_c, throttle_reasons
// (names, or "none"; each when NVML gives it), energy_mode, max_power_w, max_power_basis,
// and for counters rejected_reads and counter_resets.
// Plausibility: each GPU's caps.max_power_w is opts.max_power_w, else 2 x the highest
// power limit the board accepts (nvmlDeviceGetPowerManagementLimitConstraints; the
// enforced limit is not used, since a sweep may raise it mid-run), else
// kNvmlDefaultMaxPowerW. A counter step above it, or a counter decrease whose reading
// as a reset (driver reload) implies more, is returned as Reading::rejected; a counter
// GPU's extra power reading above it is dropped; a power GPU's is rejected by the Sampler.
Result<std::vector<std::unique_ptr<Sensor>>> open_nvml_sensors(const NvmlOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems);

}  // namespace jouleperf
