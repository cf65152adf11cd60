// A device's thermal and clock state, read on demand (issue 19, the thermal protocol;
// docs/controls.md): a GPU's temperature, enforced power limit, SM clock and clock
// throttle reasons through NVML, a CPU's temperature through the kernel's thermal zones.
// The sweep reads them around every repetition, waits on them between cells and warms a
// configuration up until they are steady.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/nvml_library.hpp"

namespace jouleperf {

// What one device says at one moment; a fact it does not give is unset.
struct DeviceSnapshot {
  std::optional<double> temperature_c;
  std::optional<double> power_limit_w;  // enforced
  std::optional<double> sm_clock_mhz;
  std::optional<std::uint64_t> throttle_reasons;  // nvml::kThrottle* bits
};

class DeviceProbe {
 public:
  virtual ~DeviceProbe() = default;
  // The device, as its energy sensor names it: "gpu:0"; "thermal:x86_pkg_temp" for a zone.
  virtual const std::string& domain() const = 0;
  // Reads the device now. Fails (kind kept: kIo, kPermissionDenied, ...) only when no
  // temperature can be read; the other facts are best effort. Not thread-safe.
  virtual Result<DeviceSnapshot> read() = 0;
};

// A probe of the GPU whose UUID is `uuid`, named `domain`; kNotFound when no GPU has it.
Result<std::unique_ptr<DeviceProbe>> nvml_probe(std::shared_ptr<const NvmlLibrary> lib, const std::string& uuid,
                                                std::string domain);

// One probe per thermal zone under `root` (default /sys/class/thermal): the directories
// thermal_zoneN with a readable `temp` (millidegrees C) and `type`, named
// "thermal:<type>" ("thermal:<type>:<N>" when types repeat). A zone whose `temp` cannot be
// read now (ENODATA, EIO: a wireless card's zone while it is down) is left out. None when `root` has no zone
// (a VM, a container); kIo when `root` exists but cannot be listed.
Result<std::vector<std::unique_ptr<DeviceProbe>>> thermal_zone_probes(const std::string& root = "/sys/class/thermal");

// The hwmon drivers that report a CPU's own temperature: coretemp (Intel; temp1 is the
// package), k10temp (AMD; temp1 is Tctl), zenpower, cpu_thermal (Arm SoCs).
bool is_cpu_hwmon(const std::string& driver_name);
// One probe per CPU hwmon device under `root` (default /sys/class/hwmon): the directories
// hwmonN whose `name` is_cpu_hwmon, read from temp1_input (millidegrees C), named
// "hwmon:<name>:<N>" (one that cannot be read now left out). Other hwmon devices (NVMe drives, NICs, GPUs) are left
// out: their temperatures are not the CPU's. AMD servers often have no thermal zone, only k10temp. None when `root` has
// no such device; kIo when `root` exists but cannot be listed.
Result<std::vector<std::unique_ptr<DeviceProbe>>> cpu_hwmon_probes(const std::string& root = "/sys/class/hwmon");

}  // namespace jouleperf
