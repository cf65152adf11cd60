// The sensor and sampler settings every measuring command shares, as plain fields (the CLI
// binds its --sensor, --powercap-root, --hz ... flags and their JOULEPERF_* mirrors to
// them), and the library options they stand for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jouleperf/sensor/factory.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {

struct SensorSettings {
  std::vector<std::string> sensors;  // families (empty: every readable hardware sensor, else cpu-model)
  std::string powercap_root = "/sys/class/powercap";
  std::string nvml_lib = "libnvidia-ml.so.1";
  std::vector<std::string> prometheus;  // exporter /metrics URLs
  double prometheus_timeout_s = 2.0;    // per scrape, s
  double prometheus_max_hz = 10.0;      // highest scrape rate per exporter, Hz
  double dcgm_interval_s = 30.0;        // the DCGM exporter's collect interval, s
  std::optional<double> cpu_idle_w;     // CPU-time model: power at idle, W
  std::optional<double> cpu_max_w;      // CPU-time model: power at full load, W
  double hz = 100.0;                    // power sensors' sampling rate, Hz
  double counter_hz = 10.0;             // energy counters' sampling rate, Hz (0: hz)
  // CUDA_VISIBLE_DEVICES as the process was given it (nullopt: unset, every GPU); NVML then
  // opens only the GPUs it names (NvmlOptions::visible_devices). The CLI reads the variable.
  std::optional<std::string> cuda_visible_devices;
};

// The options open_sensors takes. Never fails.
SensorOptions to_sensor_options(const SensorSettings& settings);
// The sampler's rates. Never fails.
SamplerConfig to_sampler_config(const SensorSettings& settings);

}  // namespace jouleperf
