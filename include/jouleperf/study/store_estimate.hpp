// `jouleperf estimate` on a results store, as one call shared by the CLI and the Python
// package: the store's configurations and cells, the host CPU's power for the FLOPs-ideal
// fallback (the CPU-time model's idle and full-load watts), then
// estimate::run_workload_estimate.
#pragma once

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/workload_run.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::study {

// The estimate of `options`' workload on `store`. The host CPU's power fills
// options.device.host_idle_w/host_max_w (or host_power_error when it is unknown); the
// other device settings are kept. Fails with kNotFound for a store without a
// configuration, as the store's reads fail, and as run_workload_estimate fails.
Result<estimate::WorkloadEstimate> estimate_store(const Store& store, estimate::WorkloadRunOptions options);

}  // namespace jouleperf::study
