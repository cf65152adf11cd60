// The CPU-time power model: an *estimate* of CPU power from utilization in /proc/stat,
// for machines with no readable energy sensor (like this project's CI machines).
// Every figure it yields carries estimated = true and source cpu-time-model.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct CpuModelOptions {
  std::string proc_stat = "/proc/stat";
  std::string cpuinfo = "/proc/cpuinfo";
  std::optional<double> idle_w;  // env JOULEPERF_CPU_IDLE_W; default from the TDP table
  std::optional<double> max_w;   // env JOULEPERF_CPU_MAX_W; default from the TDP table
};

// Where the model's idle and maximum power came from.
struct CpuPowerParams {
  double idle_w = 0.0;    // power at 0% utilization of the visible CPUs, W
  double max_w = 0.0;     // power at 100% utilization of the visible CPUs, W
  int logical_cpus = 0;   // CPUs visible in /proc/stat
  std::string cpu_model;  // /proc/cpuinfo "model name"
  std::string basis;      // e.g. "table: AMD EPYC 7763 (280 W TDP, 128 threads)" or "generic default"
};

// Resolves idle/max power: flags first, then the built-in TDP table keyed by model
// name (scaled to the visible CPUs), else the generic default of 10 W per logical CPU
// at full load and 30% of that at idle. Fails when /proc/stat cannot be read or the
// flags are inconsistent (max < idle, negative).
Result<CpuPowerParams> resolve_cpu_power_params(const CpuModelOptions& opts);

// Opens the model as one sensor, domain "cpu-model:all". Its cumulative energy is
// sum over read intervals of (idle + (max - idle) * utilization) * wall time, where
// utilization = busy jiffies / (busy + idle) jiffies (user, nice, system, irq, softirq
// are busy; idle and iowait are idle; steal is excluded).
Result<std::unique_ptr<Sensor>> open_cpu_model_sensor(const CpuModelOptions& opts, const Clock& clock);

// Parses the aggregate "cpu" line of /proc/stat: busy and total (busy + idle) jiffies.
struct CpuJiffies {
  unsigned long long busy = 0;
  unsigned long long total = 0;
};
Result<CpuJiffies> parse_proc_stat(std::string_view text);

}  // namespace jouleperf
