// Intel/AMD RAPL energy counters through Linux powercap sysfs
// (<root>/intel-rapl:*/ and intel-rapl-mmio:*, energy_uj and max_energy_range_uj).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct RaplOptions {
  std::string powercap_root = "/sys/class/powercap";  // env JOULEPERF_POWERCAP_ROOT
};

// Opens one sensor per readable RAPL zone (package, core, uncore, dram, psys; see
// rapl_zones.hpp for discovery and domain names). Each sensor is an energy counter in
// joules (energy_uj unwrapped at max_energy_range_uj; resolution 1e-6 J, updates about
// every 1 ms); core, uncore, psys and MMIO duplicates have caps.in_total = false.
// Zones that exist but cannot be read are appended to `problems`, one each
// (kPermissionDenied carries the fix, kParse names the malformed file). Fails with
// kNotFound when the root has no RAPL zone at all, with kPermissionDenied when zones
// exist but none is readable for lack of permission, and otherwise with the first
// zone's error when none works. A sensor's read() fails (never returns zero) when its
// zone disappears (kNotFound) or its file turns malformed (kParse).
Result<std::vector<std::unique_ptr<Sensor>>> open_rapl_sensors(const RaplOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems);

}  // namespace jouleperf
