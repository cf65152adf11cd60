// Finding RAPL zones in a Linux powercap tree and naming their domains. Pure
// filesystem work: nothing here opens energy_uj (see rapl.hpp for the sensor).
//
// The kernel registers RAPL zones in two powercap control types: "intel-rapl" (MSR
// interface, also used by AMD Zen and by TPMI on recent Xeons) and "intel-rapl-mmio"
// (the package zone through MMIO, on some Intel client parts). A zone directory is
// named <control-type>:<i>, a subzone <control-type>:<i>:<j>, and lives inside its
// parent (/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0);
// /sys/class/powercap holds a symlink to every zone and control type, so the same
// zone is reachable by several paths. Each zone is reported once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

enum class RaplInterface {
  kMsr,   // control type "intel-rapl"
  kMmio,  // control type "intel-rapl-mmio"
};

// "msr" or "mmio".
std::string_view rapl_interface_name(RaplInterface i);

// A zone id parsed from its directory name.
struct RaplZoneId {
  RaplInterface interface = RaplInterface::kMsr;
  std::vector<std::uint32_t> index;  // "intel-rapl:0:1" -> {0, 1}; size 1 for a top-level zone
};

// Parses "intel-rapl:0", "intel-rapl:0:1", "intel-rapl-mmio:0". Fails with kParse for
// anything else (control-type directories such as "intel-rapl", other powercap types).
Result<RaplZoneId> parse_rapl_zone_id(std::string_view dir_name);

struct RaplZone {
  std::string id;         // directory name: "intel-rapl:0:1"
  RaplZoneId parsed;      // the same, parsed
  std::string path;       // the zone directory as first found under the root (top-level symlink preferred)
  std::string real_path;  // the same with symlinks resolved (what deduplication compares)
  std::string name;       // content of the zone's `name` file: "package-0", "core", "uncore", "dram", "psys"
  std::string domain;     // jouleperf domain: "cpu-package:0", "cpu-core:0", "cpu-uncore:0", "dram:0", "psys:0"
  bool in_total = true;   // package and dram: true; core, uncore, psys, MMIO duplicates, unknown: false
  std::string note;       // why in_total is false for a zone that would otherwise count ("" when none)
};

// Lists the RAPL zones under `root` (normally /sys/class/powercap; a
// /sys/devices/virtual/powercap tree or a copy works too), each once, sorted by
// interface and index, with domains assigned. A zone whose `name` cannot be read or is
// empty is left out and appended to `problems` (family "rapl"). Fails with kNotFound
// when the root does not exist or holds no RAPL zone (the message names the kernel
// modules to load), and with the mapped errno error when the root cannot be listed.
Result<std::vector<RaplZone>> find_rapl_zones(const std::string& root, std::vector<SensorProblem>& problems);

}  // namespace jouleperf
