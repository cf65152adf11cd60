#include "jouleperf/workload/default_workloads.hpp"

#include <string>

namespace jouleperf::workload {

Result<const DefaultWorkload*> find_default_workload(std::string_view name) {
  std::string names;
  for (const DefaultWorkload& w : default_workloads()) {
    if (w.name == name) return &w;
    names += (names.empty() ? "" : ", ") + std::string(w.name);
  }
  return make_error(Errc::kNotFound, "no embedded workload '" + std::string(name) + "' (" + names + ")");
}

}  // namespace jouleperf::workload
