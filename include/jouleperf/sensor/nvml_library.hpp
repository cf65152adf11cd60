// libnvidia-ml loaded at run time: the few NVML C types, constants and calls jouleperf
// uses, declared here so that no NVIDIA header or library is needed to build. One
// NvmlLibrary owns the dlopen handle and one nvmlInit_v2; its destructor calls
// nvmlShutdown and dlclose. GPU sensors share it through a shared_ptr, so both happen
// once, after the last sensor is gone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

// NVML's opaque device type, at global scope as nvml.h declares it
// (typedef struct nvmlDevice_st* nvmlDevice_t).
struct nvmlDevice_st;

namespace jouleperf {

namespace nvml {

using Return = int;               // nvmlReturn_t
using Device = ::nvmlDevice_st*;  // nvmlDevice_t

// nvmlReturn_t values (nvml.h).
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorIrqIssue = 11;
inline constexpr Return kErrorLibraryNotFound = 12;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorCorruptedInforom = 14;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorResetRequired = 16;
inline constexpr Return kErrorOperatingSystem = 17;
inline constexpr Return kErrorLibRmVersionMismatch = 18;
inline constexpr Return kErrorNoData = 21;
inline constexpr Return kErrorGpuNotFound = 28;
inline constexpr Return kErrorUnknown = 999;

inline constexpr int kTemperatureGpu = 0;                 // nvmlTemperatureSensors_t NVML_TEMPERATURE_GPU
inline constexpr int kClockGraphics = 0;                  // nvmlClockType_t NVML_CLOCK_GRAPHICS
inline constexpr int kClockSm = 1;                        // nvmlClockType_t NVML_CLOCK_SM
inline constexpr int kTemperatureThresholdSlowdown = 1;   // NVML_TEMPERATURE_THRESHOLD_SLOWDOWN
inline constexpr unsigned kDeviceNameBufferSize = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
inline constexpr unsigned kDeviceUuidBufferSize = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE
inline constexpr unsigned kDriverVersionBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

// nvmlClocksThrottleReason* bits (nvmlDeviceGetCurrentClocksThrottleReasons; called
// "clocks event reasons" since CUDA 12.2, same values).
inline constexpr std::uint64_t kThrottleGpuIdle = 0x1;
inline constexpr std::uint64_t kThrottleApplicationsClocksSetting = 0x2;
inline constexpr std::uint64_t kThrottleSwPowerCap = 0x4;
inline constexpr std::uint64_t kThrottleHwSlowdown = 0x8;
inline constexpr std::uint64_t kThrottleSyncBoost = 0x10;
inline constexpr std::uint64_t kThrottleSwThermalSlowdown = 0x20;
inline constexpr std::uint64_t kThrottleHwThermalSlowdown = 0x40;
inline constexpr std::uint64_t kThrottleHwPowerBrakeSlowdown = 0x80;
inline constexpr std::uint64_t kThrottleDisplayClockSetting = 0x100;

// The names of the bits set in `reasons`, lowest bit first: "gpu_idle",
// "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",
// "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown",
// "display_clock_setting", and "0x..." for a bit NVML may add later.
std::vector<std::string> throttle_reason_names(std::uint64_t reasons);

// The settable range of a GPU's power limit, mW.
struct PowerLimitRange {
  unsigned min_mw = 0;
  unsigned max_mw = 0;
};

// The jouleperf error kind for an NVML return code: NO_PERMISSION -> kPermissionDenied;
// NOT_SUPPORTED, FUNCTION_NOT_FOUND, LIB_RM_VERSION_MISMATCH -> kUnsupported;
// NOT_FOUND, DRIVER_NOT_LOADED, LIBRARY_NOT_FOUND, GPU_NOT_FOUND -> kNotFound;
// INVALID_ARGUMENT -> kInvalidArgument; TIMEOUT -> kTimeout; GPU_IS_LOST, RESET_REQUIRED,
// IRQ_ISSUE, CORRUPTED_INFOROM, OPERATING_SYSTEM, NO_DATA -> kIo; anything else -> kInternal.
Errc errc_for(Return rc);

}  // namespace nvml

class NvmlLibrary {
 public:
  // Loads `path` with dlopen(RTLD_NOW | RTLD_LOCAL), resolves the symbols and calls
  // nvmlInit_v2. Fails with kNotFound (dlerror text and the --nvml-lib /
  // JOULEPERF_NVML_LIB hint) when the library cannot be loaded, kUnsupported naming the
  // first missing required symbol, or the mapped nvmlInit_v2 error (e.g. kNotFound for
  // DRIVER_NOT_LOADED, kPermissionDenied for NO_PERMISSION).
  static Result<std::shared_ptr<NvmlLibrary>> open(const std::string& path);

  ~NvmlLibrary();  // nvmlShutdown, then dlclose
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  const std::string& path() const { return path_; }

  // Each call below fails with the mapped NVML error; the message names the NVML
  // function and carries nvmlErrorString's text and the numeric code.

  // Number of GPUs NVML sees (nvmlDeviceGetCount_v2).
  Result<unsigned> device_count() const;
  // Handle of GPU `index` in NVML order (nvmlDeviceGetHandleByIndex_v2).
  Result<nvml::Device> device_handle(unsigned index) const;
  // Product name, e.g. "NVIDIA A100-SXM4-40GB" (nvmlDeviceGetName).
  Result<std::string> device_name(nvml::Device dev) const;
  // Board energy since the driver was loaded, mJ (nvmlDeviceGetTotalEnergyConsumption;
  // Volta and newer; NOT_SUPPORTED -> kUnsupported on older GPUs).
  Result<std::uint64_t> total_energy_mj(nvml::Device dev) const;
  // Board power, mW (nvmlDeviceGetPowerUsage).
  Result<unsigned> power_mw(nvml::Device dev) const;
  // Power limit the driver enforces, mW (nvmlDeviceGetEnforcedPowerLimit). Optional
  // symbol: kUnsupported when the library lacks it.
  Result<unsigned> enforced_power_limit_mw(nvml::Device dev) const;
  // Highest power limit the board accepts, mW (maxLimit of
  // nvmlDeviceGetPowerManagementLimitConstraints): fixed per board, unlike the enforced
  // limit. Optional symbol: kUnsupported when the library lacks it.
  Result<unsigned> max_power_limit_mw(nvml::Device dev) const;
  // GPU die temperature, degrees C (nvmlDeviceGetTemperature, NVML_TEMPERATURE_GPU).
  // Optional symbol: kUnsupported when the library lacks it.
  Result<unsigned> temperature_c(nvml::Device dev) const;
  // Current SM clock, MHz (nvmlDeviceGetClockInfo, NVML_CLOCK_SM). Optional symbol:
  // kUnsupported when the library lacks it.
  Result<unsigned> sm_clock_mhz(nvml::Device dev) const;
  // The GPU's UUID, "GPU-" and 32 hex digits in 8-4-4-4-12 groups, as nvidia-smi -L and
  // CUDA_VISIBLE_DEVICES spell it; the same in every process on the node, whatever the
  // NVML index (nvmlDeviceGetUUID). Optional symbol: kUnsupported when the library lacks it.
  Result<std::string> device_uuid(nvml::Device dev) const;
  // The kernel driver's version, e.g. "550.54.15" (nvmlSystemGetDriverVersion). Optional
  // symbol: kUnsupported when the library lacks it.
  Result<std::string> driver_version() const;

  // Power and clock controls (issue 19, docs/controls.md). Every one is an optional symbol:
  // kUnsupported when the library lacks it. Setters need root (NO_PERMISSION ->
  // kPermissionDenied); a value outside the board's range is INVALID_ARGUMENT ->
  // kInvalidArgument.

  // The power management limit set on the board, mW (nvmlDeviceGetPowerManagementLimit);
  // the enforced one may be lower (another limit in force).
  Result<unsigned> power_limit_mw(nvml::Device dev) const;
  // The board's default power limit, mW (nvmlDeviceGetPowerManagementDefaultLimit).
  Result<unsigned> default_power_limit_mw(nvml::Device dev) const;
  // The settable range of the power limit (nvmlDeviceGetPowerManagementLimitConstraints).
  Result<nvml::PowerLimitRange> power_limit_range_mw(nvml::Device dev) const;
  // Sets the power management limit, mW (nvmlDeviceSetPowerManagementLimit).
  Status set_power_limit_mw(nvml::Device dev, unsigned mw) const;
  // Locks the graphics clock to [min_mhz, max_mhz] (nvmlDeviceSetGpuLockedClocks; Volta
  // and newer).
  Status set_locked_clocks_mhz(nvml::Device dev, unsigned min_mhz, unsigned max_mhz) const;
  // Unlocks the graphics clock (nvmlDeviceResetGpuLockedClocks).
  Status reset_locked_clocks(nvml::Device dev) const;
  // The graphics clocks the GPU supports at its highest memory clock, MHz, highest first
  // (nvmlDeviceGetSupportedMemoryClocks, nvmlDeviceGetSupportedGraphicsClocks).
  Result<std::vector<unsigned>> supported_graphics_clocks_mhz(nvml::Device dev) const;
  // The highest SM clock, MHz (nvmlDeviceGetMaxClockInfo, NVML_CLOCK_SM).
  Result<unsigned> max_sm_clock_mhz(nvml::Device dev) const;
  // The current clock throttle reasons, nvml::kThrottle* bits
  // (nvmlDeviceGetCurrentClocksThrottleReasons).
  Result<std::uint64_t> throttle_reasons(nvml::Device dev) const;
  // The temperature at which the GPU slows down, degrees C (nvmlDeviceGetTemperatureThreshold,
  // NVML_TEMPERATURE_THRESHOLD_SLOWDOWN).
  Result<unsigned> slowdown_temperature_c(nvml::Device dev) const;
  // The GPU whose UUID is `uuid` (by device_uuid over every index): kNotFound naming it
  // when no GPU has it.
  Result<nvml::Device> device_by_uuid(const std::string& uuid) const;

  // nvmlErrorString's text for `rc` ("GPU is lost", ...).
  std::string error_string(nvml::Return rc) const;

 private:
  struct Api;
  NvmlLibrary(void* handle, std::string path, std::unique_ptr<Api> api);
  Error error(nvml::Return rc, std::string_view call) const;
  static Error missing(std::string_view symbol);

  void* handle_ = nullptr;
  std::string path_;
  std::unique_ptr<Api> api_;
};

}  // namespace jouleperf
