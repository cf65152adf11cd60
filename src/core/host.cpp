#include "jouleperf/core/host.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

namespace jouleperf {

#ifndef JOULEPERF_BUILD_TYPE
#define JOULEPERF_BUILD_TYPE "unknown"
#endif
#ifndef JOULEPERF_VERSION
#define JOULEPERF_VERSION "unknown"
#endif

std::vector<std::pair<std::string, std::string>> host_conditions() {
  std::vector<std::pair<std::string, std::string>> out;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) out.emplace_back("hostname", host);
  utsname u{};
  if (uname(&u) == 0) out.emplace_back("kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) out.emplace_back("cpu_model", line.substr(colon + 2));
      break;
    }
  }
  if (const unsigned n = std::thread::hardware_concurrency(); n > 0)
    out.emplace_back("logical_cpus", std::to_string(n));
  out.emplace_back("build_type", JOULEPERF_BUILD_TYPE);
  out.emplace_back("jouleperf_version", JOULEPERF_VERSION);
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (gmtime_r(&now, &tm) != nullptr) {
    char buf[32];
    if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) out.emplace_back("timestamp_utc", buf);
  }
  return out;
}

}  // namespace jouleperf
