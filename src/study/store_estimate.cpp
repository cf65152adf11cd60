#include "jouleperf/study/store_estimate.hpp"

#include "jouleperf/study/study_run.hpp"

namespace jouleperf::study {

Result<estimate::WorkloadEstimate> estimate_store(const Store& store, estimate::WorkloadRunOptions options) {
  auto configs = store.configs();
  if (!configs) return configs.error();
  auto cells = store.cells();
  if (!cells) return cells.error();
  if (configs->empty()) return make_error(Errc::kNotFound, "store " + store.path() + " holds no configuration");
  const auto host = ideal_device_options(std::nullopt, std::nullopt);
  options.device.host_idle_w = host.host_idle_w;
  options.device.host_max_w = host.host_max_w;
  options.device.host_power_error = host.host_power_error;
  return estimate::run_workload_estimate(options, *configs, *cells);
}

}  // namespace jouleperf::study
