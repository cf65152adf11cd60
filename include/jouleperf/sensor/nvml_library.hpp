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
inline constexpr int kClockSm = 1;                        // nvmlClockType_t NVML_CLOCK_SM
inline constexpr unsigned kDeviceNameBufferSize = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
inline constexpr unsigned kDeviceUuidBufferSize = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE
inline constexpr unsigned kDriverVersionBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

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
