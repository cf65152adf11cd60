// Intel/AMD RAPL energy counters through Linux powercap sysfs
// (<root>/intel-rapl:*/ and intel-rapl-mmio:*, energy_uj and max_energy_range_uj).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct RaplOptions {
  std::string powercap_root = "/sys/class/powercap";  // env JOULEPERF_POWERCAP_ROOT
  // Physical bound on every zone's power, W, overriding the per-zone default (see
  // rapl_max_power_w); unset = per zone. A counter step above it is rejected.
  std::optional<double> max_power_w;
};

// Default physical bound for a RAPL zone called `zone_name` ("package-0", "dram",
// "core", "uncore", "psys", other), W: package, core and uncore 1,000 W; dram 500 W;
// psys and unknown domains 5,000 W. Where the zone has constraint_<N>_max_power_uw > 0
// (the hardware's own maximum from MSR_*_POWER_INFO), the bound is 4 x the largest of
// them instead, and never below 100 W (a firmware value of 0 or 1 W must not reject real
// readings). `basis` (if given) receives where the figure came from.
double rapl_max_power_w(const std::string& zone_name, std::optional<double> largest_constraint_max_w,
                        std::string* basis = nullptr);

// Opens one sensor per readable RAPL zone (package, core, uncore, dram, psys; see
// rapl_zones.hpp for discovery and domain names). Each sensor is an energy counter in
// joules (energy_uj unwrapped at max_energy_range_uj; resolution 1e-6 J, updates about
// every 1 ms); core, uncore, psys and MMIO duplicates have caps.in_total = false.
// Plausibility: caps.max_power_w is the zone's bound (options, else rapl_max_power_w);
// a read whose step implies more, a decrease that is not a plausible wrap, and any
// decrease when max_energy_range_uj is 0 are returned as Reading::rejected (never as
// energy); see CounterUnwrapper.
// Zones that exist but cannot be read are appended to `problems`, one each
// (kPermissionDenied carries the fix, kParse names the malformed file). Fails with
// kNotFound when the root has no RAPL zone at all, with kPermissionDenied when zones
// exist but none is readable for lack of permission, and otherwise with the first
// zone's error when none works. A sensor's read() fails (never returns zero) when its
// zone disappears (kNotFound) or its file turns malformed (kParse).
Result<std::vector<std::unique_ptr<Sensor>>> open_rapl_sensors(const RaplOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems);

}  // namespace jouleperf
