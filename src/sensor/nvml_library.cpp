#include "jouleperf/sensor/nvml_library.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <utility>

namespace jouleperf {

namespace nvml {

Errc errc_for(Return rc) {
  switch (rc) {
    case kErrorNoPermission: return Errc::kPermissionDenied;
    case kErrorNotSupported:
    case kErrorFunctionNotFound:
    case kErrorLibRmVersionMismatch: return Errc::kUnsupported;
    case kErrorNotFound:
    case kErrorDriverNotLoaded:
    case kErrorLibraryNotFound:
    case kErrorGpuNotFound: return Errc::kNotFound;
    case kErrorInvalidArgument: return Errc::kInvalidArgument;
    case kErrorTimeout: return Errc::kTimeout;
    case kErrorGpuIsLost:
    case kErrorResetRequired:
    case kErrorIrqIssue:
    case kErrorCorruptedInforom:
    case kErrorOperatingSystem:
    case kErrorNoData: return Errc::kIo;
    default: return Errc::kInternal;
  }
}

std::vector<std::string> throttle_reason_names(std::uint64_t reasons) {
  static constexpr const char* kNames[] = {"gpu_idle",
                                           "applications_clocks_setting",
                                           "sw_power_cap",
                                           "hw_slowdown",
                                           "sync_boost",
                                           "sw_thermal_slowdown",
                                           "hw_thermal_slowdown",
                                           "hw_power_brake_slowdown",
                                           "display_clock_setting"};
  std::vector<std::string> out;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const std::uint64_t mask = std::uint64_t{1} << bit;
    if ((reasons & mask) == 0) continue;
    if (bit < std::size(kNames)) {
      out.emplace_back(kNames[bit]);
    } else {
      char hex[24];
      std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(mask));
      out.emplace_back(hex);
    }
  }
  return out;
}

}  // namespace nvml

// Function pointers resolved from the library. The C signatures are nvml.h's, with
// enums passed as int (their ABI on every platform NVML ships for).
struct NvmlLibrary::Api {
  nvml::Return (*init_v2)() = nullptr;
  nvml::Return (*shutdown)() = nullptr;
  const char* (*error_string)(nvml::Return) = nullptr;
  nvml::Return (*device_get_count_v2)(unsigned int*) = nullptr;
  nvml::Return (*device_get_handle_by_index_v2)(unsigned int, nvml::Device*) = nullptr;
  nvml::Return (*device_get_name)(nvml::Device, char*, unsigned int) = nullptr;
  nvml::Return (*device_get_total_energy_consumption)(nvml::Device, unsigned long long*) = nullptr;
  nvml::Return (*device_get_power_usage)(nvml::Device, unsigned int*) = nullptr;
  // Optional: absent in some builds; the facts they give are then omitted.
  nvml::Return (*device_get_enforced_power_limit)(nvml::Device, unsigned int*) = nullptr;
  nvml::Return (*device_get_power_management_limit_constraints)(nvml::Device, unsigned int*, unsigned int*) = nullptr;
  nvml::Return (*device_get_temperature)(nvml::Device, int, unsigned int*) = nullptr;
  nvml::Return (*device_get_clock_info)(nvml::Device, int, unsigned int*) = nullptr;
  nvml::Return (*device_get_uuid)(nvml::Device, char*, unsigned int) = nullptr;
  nvml::Return (*system_get_driver_version)(char*, unsigned int) = nullptr;
  nvml::Return (*device_get_power_management_limit)(nvml::Device, unsigned int*) = nullptr;
  nvml::Return (*device_get_power_management_default_limit)(nvml::Device, unsigned int*) = nullptr;
  nvml::Return (*device_set_power_management_limit)(nvml::Device, unsigned int) = nullptr;
  nvml::Return (*device_set_gpu_locked_clocks)(nvml::Device, unsigned int, unsigned int) = nullptr;
  nvml::Return (*device_reset_gpu_locked_clocks)(nvml::Device) = nullptr;
  nvml::Return (*device_get_supported_memory_clocks)(nvml::Device, unsigned int*, unsigned int*) = nullptr;
  nvml::Return (*device_get_supported_graphics_clocks)(nvml::Device, unsigned int, unsigned int*,
                                                       unsigned int*) = nullptr;
  nvml::Return (*device_get_max_clock_info)(nvml::Device, int, unsigned int*) = nullptr;
  nvml::Return (*device_get_current_clocks_throttle_reasons)(nvml::Device, unsigned long long*) = nullptr;
  nvml::Return (*device_get_temperature_threshold)(nvml::Device, int, unsigned int*) = nullptr;
};

namespace {

// Resolves `name` into `fn` (memcpy: ISO C++ has no cast from void* to a function pointer).
template <class Fn>
bool resolve(void* handle, const char* name, Fn& fn) {
  void* sym = dlsym(handle, name);
  if (sym == nullptr) return false;
  static_assert(sizeof(Fn) == sizeof(void*));
  std::memcpy(&fn, &sym, sizeof fn);
  return true;
}

}  // namespace

NvmlLibrary::NvmlLibrary(void* handle, std::string path, std::unique_ptr<Api> api)
    : handle_(handle), path_(std::move(path)), api_(std::move(api)) {}

NvmlLibrary::~NvmlLibrary() {
  api_->shutdown();
  dlclose(handle_);
}

Result<std::shared_ptr<NvmlLibrary>> NvmlLibrary::open(const std::string& path) {
  dlerror();  // clear any stale message
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return make_error(Errc::kNotFound, "cannot load NVML library '" + path +
                                           "': " + (why ? why : "unknown dlopen error") +
                                           " (install the NVIDIA driver, or give its libnvidia-ml.so.1 with "
                                           "--nvml-lib PATH or JOULEPERF_NVML_LIB)");
  }
  auto api = std::make_unique<Api>();
  struct Required {
    const char* name;
    bool ok;
  };
  const Required required[] = {
      {"nvmlInit_v2", resolve(handle, "nvmlInit_v2", api->init_v2)},
      {"nvmlShutdown", resolve(handle, "nvmlShutdown", api->shutdown)},
      {"nvmlErrorString", resolve(handle, "nvmlErrorString", api->error_string)},
      {"nvmlDeviceGetCount_v2", resolve(handle, "nvmlDeviceGetCount_v2", api->device_get_count_v2)},
      {"nvmlDeviceGetHandleByIndex_v2",
       resolve(handle, "nvmlDeviceGetHandleByIndex_v2", api->device_get_handle_by_index_v2)},
      {"nvmlDeviceGetName", resolve(handle, "nvmlDeviceGetName", api->device_get_name)},
      {"nvmlDeviceGetTotalEnergyConsumption",
       resolve(handle, "nvmlDeviceGetTotalEnergyConsumption", api->device_get_total_energy_consumption)},
      {"nvmlDeviceGetPowerUsage", resolve(handle, "nvmlDeviceGetPowerUsage", api->device_get_power_usage)},
  };
  for (const auto& r : required) {
    if (!r.ok) {
      dlclose(handle);
      return make_error(Errc::kUnsupported, "NVML library '" + path + "' lacks the symbol " + r.name +
                                                " (driver too old, or not libnvidia-ml)");
    }
  }
  resolve(handle, "nvmlDeviceGetEnforcedPowerLimit", api->device_get_enforced_power_limit);
  resolve(handle, "nvmlDeviceGetPowerManagementLimitConstraints", api->device_get_power_management_limit_constraints);
  resolve(handle, "nvmlDeviceGetTemperature", api->device_get_temperature);
  resolve(handle, "nvmlDeviceGetClockInfo", api->device_get_clock_info);
  resolve(handle, "nvmlDeviceGetUUID", api->device_get_uuid);
  resolve(handle, "nvmlSystemGetDriverVersion", api->system_get_driver_version);
  resolve(handle, "nvmlDeviceGetPowerManagementLimit", api->device_get_power_management_limit);
  resolve(handle, "nvmlDeviceGetPowerManagementDefaultLimit", api->device_get_power_management_default_limit);
  resolve(handle, "nvmlDeviceSetPowerManagementLimit", api->device_set_power_management_limit);
  resolve(handle, "nvmlDeviceSetGpuLockedClocks", api->device_set_gpu_locked_clocks);
  resolve(handle, "nvmlDeviceResetGpuLockedClocks", api->device_reset_gpu_locked_clocks);
  resolve(handle, "nvmlDeviceGetSupportedMemoryClocks", api->device_get_supported_memory_clocks);
  resolve(handle, "nvmlDeviceGetSupportedGraphicsClocks", api->device_get_supported_graphics_clocks);
  resolve(handle, "nvmlDeviceGetMaxClockInfo", api->device_get_max_clock_info);
  resolve(handle, "nvmlDeviceGetCurrentClocksThrottleReasons", api->device_get_current_clocks_throttle_reasons);
  resolve(handle, "nvmlDeviceGetTemperatureThreshold", api->device_get_temperature_threshold);

  const nvml::Return rc = api->init_v2();
  if (rc != nvml::kSuccess) {
    const char* text = api->error_string(rc);
    Error err = make_error(nvml::errc_for(rc), "nvmlInit_v2 (" + path + ") failed: " + (text ? text : "unknown error") +
                                                   " (NVML error " + std::to_string(rc) + ")");
    dlclose(handle);
    return err;
  }
  return std::shared_ptr<NvmlLibrary>(new NvmlLibrary(handle, path, std::move(api)));
}

std::string NvmlLibrary::error_string(nvml::Return rc) const {
  const char* text = api_->error_string(rc);
  return text ? text : "unknown error";
}

Error NvmlLibrary::error(nvml::Return rc, std::string_view call) const {
  return make_error(nvml::errc_for(rc),
                    std::string(call) + ": " + error_string(rc) + " (NVML error " + std::to_string(rc) + ")");
}

Error NvmlLibrary::missing(std::string_view symbol) {
  return make_error(Errc::kUnsupported, "the NVML library has no " + std::string(symbol));
}

Result<unsigned> NvmlLibrary::device_count() const {
  unsigned n = 0;
  const nvml::Return rc = api_->device_get_count_v2(&n);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetCount_v2");
  return n;
}

Result<nvml::Device> NvmlLibrary::device_handle(unsigned index) const {
  nvml::Device dev = nullptr;
  const nvml::Return rc = api_->device_get_handle_by_index_v2(index, &dev);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetHandleByIndex_v2");
  return dev;
}

Result<std::string> NvmlLibrary::device_name(nvml::Device dev) const {
  char buf[nvml::kDeviceNameBufferSize] = {};
  const nvml::Return rc = api_->device_get_name(dev, buf, sizeof buf);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetName");
  buf[sizeof buf - 1] = '\0';
  return std::string(buf);
}

Result<std::uint64_t> NvmlLibrary::total_energy_mj(nvml::Device dev) const {
  unsigned long long mj = 0;
  const nvml::Return rc = api_->device_get_total_energy_consumption(dev, &mj);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetTotalEnergyConsumption");
  return static_cast<std::uint64_t>(mj);
}

Result<unsigned> NvmlLibrary::power_mw(nvml::Device dev) const {
  unsigned mw = 0;
  const nvml::Return rc = api_->device_get_power_usage(dev, &mw);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetPowerUsage");
  return mw;
}

Result<unsigned> NvmlLibrary::enforced_power_limit_mw(nvml::Device dev) const {
  if (api_->device_get_enforced_power_limit == nullptr) return missing("nvmlDeviceGetEnforcedPowerLimit");
  unsigned mw = 0;
  const nvml::Return rc = api_->device_get_enforced_power_limit(dev, &mw);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetEnforcedPowerLimit");
  return mw;
}

Result<unsigned> NvmlLibrary::max_power_limit_mw(nvml::Device dev) const {
  if (api_->device_get_power_management_limit_constraints == nullptr)
    return missing("nvmlDeviceGetPowerManagementLimitConstraints");
  unsigned min_mw = 0, max_mw = 0;
  const nvml::Return rc = api_->device_get_power_management_limit_constraints(dev, &min_mw, &max_mw);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetPowerManagementLimitConstraints");
  return max_mw;
}

Result<unsigned> NvmlLibrary::temperature_c(nvml::Device dev) const {
  if (api_->device_get_temperature == nullptr) return missing("nvmlDeviceGetTemperature");
  unsigned c = 0;
  const nvml::Return rc = api_->device_get_temperature(dev, nvml::kTemperatureGpu, &c);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetTemperature");
  return c;
}

Result<unsigned> NvmlLibrary::sm_clock_mhz(nvml::Device dev) const {
  if (api_->device_get_clock_info == nullptr) return missing("nvmlDeviceGetClockInfo");
  unsigned mhz = 0;
  const nvml::Return rc = api_->device_get_clock_info(dev, nvml::kClockSm, &mhz);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetClockInfo");
  return mhz;
}

Result<std::string> NvmlLibrary::device_uuid(nvml::Device dev) const {
  if (api_->device_get_uuid == nullptr) return missing("nvmlDeviceGetUUID");
  char buf[nvml::kDeviceUuidBufferSize] = {};
  const nvml::Return rc = api_->device_get_uuid(dev, buf, sizeof buf);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetUUID");
  buf[sizeof buf - 1] = '\0';
  return std::string(buf);
}

Result<std::string> NvmlLibrary::driver_version() const {
  if (api_->system_get_driver_version == nullptr) return missing("nvmlSystemGetDriverVersion");
  char buf[nvml::kDriverVersionBufferSize] = {};
  const nvml::Return rc = api_->system_get_driver_version(buf, sizeof buf);
  if (rc != nvml::kSuccess) return error(rc, "nvmlSystemGetDriverVersion");
  buf[sizeof buf - 1] = '\0';
  return std::string(buf);
}

Result<unsigned> NvmlLibrary::power_limit_mw(nvml::Device dev) const {
  if (api_->device_get_power_management_limit == nullptr) return missing("nvmlDeviceGetPowerManagementLimit");
  unsigned v = 0;
  const nvml::Return rc = api_->device_get_power_management_limit(dev, &v);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetPowerManagementLimit");
  return v;
}

Result<unsigned> NvmlLibrary::default_power_limit_mw(nvml::Device dev) const {
  if (api_->device_get_power_management_default_limit == nullptr)
    return missing("nvmlDeviceGetPowerManagementDefaultLimit");
  unsigned v = 0;
  const nvml::Return rc = api_->device_get_power_management_default_limit(dev, &v);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetPowerManagementDefaultLimit");
  return v;
}

Result<unsigned> NvmlLibrary::max_sm_clock_mhz(nvml::Device dev) const {
  if (api_->device_get_max_clock_info == nullptr) return missing("nvmlDeviceGetMaxClockInfo");
  unsigned v = 0;
  const nvml::Return rc = api_->device_get_max_clock_info(dev, nvml::kClockSm, &v);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetMaxClockInfo");
  return v;
}

Result<unsigned> NvmlLibrary::slowdown_temperature_c(nvml::Device dev) const {
  if (api_->device_get_temperature_threshold == nullptr) return missing("nvmlDeviceGetTemperatureThreshold");
  unsigned v = 0;
  const nvml::Return rc = api_->device_get_temperature_threshold(dev, nvml::kTemperatureThresholdSlowdown, &v);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetTemperatureThreshold");
  return v;
}

Result<nvml::PowerLimitRange> NvmlLibrary::power_limit_range_mw(nvml::Device dev) const {
  if (api_->device_get_power_management_limit_constraints == nullptr)
    return missing("nvmlDeviceGetPowerManagementLimitConstraints");
  nvml::PowerLimitRange r;
  const nvml::Return rc = api_->device_get_power_management_limit_constraints(dev, &r.min_mw, &r.max_mw);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetPowerManagementLimitConstraints");
  return r;
}

Status NvmlLibrary::set_power_limit_mw(nvml::Device dev, unsigned mw) const {
  if (api_->device_set_power_management_limit == nullptr) return missing("nvmlDeviceSetPowerManagementLimit");
  const nvml::Return rc = api_->device_set_power_management_limit(dev, mw);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceSetPowerManagementLimit");
  return {};
}

Status NvmlLibrary::set_locked_clocks_mhz(nvml::Device dev, unsigned min_mhz, unsigned max_mhz) const {
  if (api_->device_set_gpu_locked_clocks == nullptr) return missing("nvmlDeviceSetGpuLockedClocks");
  const nvml::Return rc = api_->device_set_gpu_locked_clocks(dev, min_mhz, max_mhz);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceSetGpuLockedClocks");
  return {};
}

Status NvmlLibrary::reset_locked_clocks(nvml::Device dev) const {
  if (api_->device_reset_gpu_locked_clocks == nullptr) return missing("nvmlDeviceResetGpuLockedClocks");
  const nvml::Return rc = api_->device_reset_gpu_locked_clocks(dev);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceResetGpuLockedClocks");
  return {};
}

Result<std::vector<unsigned>> NvmlLibrary::supported_graphics_clocks_mhz(nvml::Device dev) const {
  if (api_->device_get_supported_memory_clocks == nullptr) return missing("nvmlDeviceGetSupportedMemoryClocks");
  if (api_->device_get_supported_graphics_clocks == nullptr) return missing("nvmlDeviceGetSupportedGraphicsClocks");
  // NVML's list protocol: ask with room for some; INSUFFICIENT_SIZE says how many there are.
  auto list = [&](auto&& call, const char* name) -> Result<std::vector<unsigned>> {
    std::vector<unsigned> out(64);
    for (int attempt = 0; attempt < 3; ++attempt) {
      unsigned n = static_cast<unsigned>(out.size());
      const nvml::Return rc = call(&n, out.data());
      if (rc == nvml::kSuccess) {
        out.resize(n);
        return out;
      }
      if (rc != nvml::kErrorInsufficientSize) return error(rc, name);
      out.resize(n);
    }
    return make_error(Errc::kInternal, std::string(name) + ": the list kept growing");
  };
  auto mem = list([&](unsigned* n, unsigned* v) { return api_->device_get_supported_memory_clocks(dev, n, v); },
                  "nvmlDeviceGetSupportedMemoryClocks");
  if (!mem) return mem.error();
  if (mem->empty()) return make_error(Errc::kUnsupported, "nvmlDeviceGetSupportedMemoryClocks: no memory clock");
  unsigned top = 0;
  for (unsigned m : *mem) top = std::max(top, m);
  auto gfx = list([&](unsigned* n, unsigned* v) { return api_->device_get_supported_graphics_clocks(dev, top, n, v); },
                  "nvmlDeviceGetSupportedGraphicsClocks");
  if (!gfx) return gfx.error();
  std::sort(gfx->begin(), gfx->end(), std::greater<>());
  return gfx;
}

Result<std::uint64_t> NvmlLibrary::throttle_reasons(nvml::Device dev) const {
  if (api_->device_get_current_clocks_throttle_reasons == nullptr)
    return missing("nvmlDeviceGetCurrentClocksThrottleReasons");
  unsigned long long r = 0;
  const nvml::Return rc = api_->device_get_current_clocks_throttle_reasons(dev, &r);
  if (rc != nvml::kSuccess) return error(rc, "nvmlDeviceGetCurrentClocksThrottleReasons");
  return static_cast<std::uint64_t>(r);
}

Result<nvml::Device> NvmlLibrary::device_by_uuid(const std::string& uuid) const {
  auto n = device_count();
  if (!n) return n.error();
  std::string unreadable;  // why some GPU could not say its UUID
  for (unsigned i = 0; i < *n; ++i) {
    auto dev = device_handle(i);
    if (!dev) continue;
    auto u = device_uuid(*dev);
    if (!u) unreadable = u.error().message;
    if (u && *u == uuid) return *dev;  // a GPU that cannot say its UUID is not the one sought
  }
  return make_error(Errc::kNotFound,
                    "no GPU has the UUID " + uuid + " (NVML sees " + std::to_string(*n) + ")" +
                        (unreadable.empty() ? "" : "; some GPU's UUID could not be read: " + unreadable));
}

}  // namespace jouleperf
