// A GPU's power limit and locked graphics clocks through NVML (issue 19, docs/controls.md),
// as a SettingWriter for the settings journal, and the checks a sweep makes before it
// changes anything.
#pragma once

#include <memory>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/nvml_library.hpp"
#include "jouleperf/sensor/settings_journal.hpp"

namespace jouleperf {

// Backend "nvml". Targets name the GPU by UUID (the same in every process, whatever
// CUDA_VISIBLE_DEVICES says):
//   "<uuid>/power_limit_mw"     the power management limit, mW (read: nvmlDeviceGetPowerManagementLimit;
//                               in force: the enforced limit)
//   "<uuid>/locked_clocks_mhz"  the locked graphics clock, MHz, or "reset" for none. NVML has
//                               no getter for locked clocks: read() gives "reset" (restoring
//                               unlocks them; clocks locked by hand before the sweep are not
//                               re-locked) and in_force() the SM clock now.
// Errors: kNotFound naming a UUID no GPU has, kInvalidArgument for a malformed target or
// value, and NVML's mapped errors; a kPermissionDenied names the fix (root or
// CAP_SYS_ADMIN; persistence mode, `nvidia-smi -pm 1`).
std::unique_ptr<SettingWriter> nvml_writer(std::shared_ptr<const NvmlLibrary> lib);
// The same, loading `library` (NvmlLibrary::open) on first use: `jouleperf restore` and a
// sweep's restore of leftovers need NVML only when the journal names a GPU setting. Every
// call fails as the load failed.
std::unique_ptr<SettingWriter> nvml_writer(std::string library);

// Before anything changes: the GPU takes a power limit of `watts` (within
// nvmlDeviceGetPowerManagementLimitConstraints, else kInvalidArgument naming the GPU and its
// range) and this process may set it (setting the limit to the value it already has: a
// NO_PERMISSION there is kPermissionDenied with the fix). The message names the GPU.
Status check_gpu_power_limit(const NvmlLibrary& lib, const std::string& uuid, double watts);
// The same for a locked graphics clock of `mhz`: it must be in the supported list
// (kInvalidArgument naming the nearest supported clocks), and the GPU must let this process
// lock clocks — found by unlocking them (nvmlDeviceResetGpuLockedClocks, the value a
// restore writes anyway): kPermissionDenied with the fix, kUnsupported (pre-Volta, MIG).
Status check_gpu_locked_clock(const NvmlLibrary& lib, const std::string& uuid, unsigned mhz);

}  // namespace jouleperf
