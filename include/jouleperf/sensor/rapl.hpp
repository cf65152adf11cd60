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

// Opens one sensor per readable RAPL zone (package, core, uncore, dram, psys).
// Zones that exist but cannot be read are appended to `problems` (permission denied
// carries the fix). Fails with kNotFound when the root has no RAPL zone at all, and
// with kPermissionDenied when zones exist but none is readable.
Result<std::vector<std::unique_ptr<Sensor>>> open_rapl_sensors(const RaplOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems);

}  // namespace jouleperf
