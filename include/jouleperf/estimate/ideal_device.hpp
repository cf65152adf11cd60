// The device the FLOPs-ideal baseline is rated on, one policy for every command: the named
// hardware profile (setting "hardware") for a simulated configuration, this host's CPU
// otherwise (its profile from /proc/cpuinfo at the config's thread count, with the
// CPU-time model's full-load power as its TDP, the watts every estimated cell is in).
#pragma once

#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/ideal.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/registry.hpp"

namespace jouleperf::estimate {

// The host CPU's power as the CPU-time model resolved it (sensor/cpu_model.hpp
// resolve_cpu_power_params), W, and where its profile is read.
struct HostCpuPower {
  double idle_w = 0.0;  // W, the visible CPUs at 0 % utilization
  double max_w = 0.0;   // W, the visible CPUs at 100 % (the TDP of the ideal)
  std::string cpuinfo = "/proc/cpuinfo";
  std::string meminfo = "/proc/meminfo";
};

// The rating (TDP, W; peak, FLOP/s at the config's weight precision) of `config`'s device.
// Fails with the registry's error for an unknown "hardware" profile, the precision's for
// an unknown weight type, `host_cpu`'s error when the host's power could not be resolved,
// or as read_host_cpu_profile fails.
Result<DeviceRating> flops_ideal_device(const study::Config& config, const Result<HostCpuPower>& host_cpu,
                                        const hardware::HardwareRegistry& registry);

// What the FLOPs-ideal baseline needs per config: the architecture (built-in name or the
// GGUF's header) and the device (flops_ideal_device). Never fails: what is missing is
// absent, with why in ConfigInputs::ideal_note.
std::vector<ConfigInputs> flops_ideal_inputs(const std::vector<study::Config>& configs,
                                             const Result<HostCpuPower>& host_cpu);

}  // namespace jouleperf::estimate
