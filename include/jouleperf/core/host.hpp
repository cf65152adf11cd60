// The conditions every measured run records about the machine and the build
// (DESIGN.md §3): host, kernel, CPU, build type, version, time.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace jouleperf {

// Key/value facts: hostname, kernel, cpu_model, logical_cpus, build_type,
// jouleperf_version, timestamp_utc (ISO 8601). Best effort: a fact that cannot be
// read is omitted, never invented.
std::vector<std::pair<std::string, std::string>> host_conditions();

}  // namespace jouleperf
