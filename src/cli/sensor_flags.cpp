#include "sensor_flags.hpp"

#include <cstdlib>
#include <iostream>

namespace jouleperf::cli {

void add_sensor_flags(CLI::App* cmd, SensorFlags& f) {
  // Set but empty means no GPU, so not an envname (CLI11 skips empty variables).
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) f.cuda_visible_devices = visible;
  cmd->add_option("--sensor", f.sensors,
                  "Sensor families to use: rapl, nvml, prometheus, cpu-model "
                  "(default: every readable hardware sensor, else cpu-model)")
      ->envname("JOULEPERF_SENSOR")
      ->delimiter(',');
  cmd->add_option("--powercap-root", f.powercap_root, "Root of the powercap sysfs tree")
      ->envname("JOULEPERF_POWERCAP_ROOT")
      ->capture_default_str();
  cmd->add_option("--nvml-lib", f.nvml_lib, "NVML library to dlopen")
      ->envname("JOULEPERF_NVML_LIB")
      ->capture_default_str();
  cmd->add_option("--prometheus", f.prometheus,
                  "Exporter /metrics URLs (DCGM exporter, node exporter, Kepler); one per node")
      ->envname("JOULEPERF_PROMETHEUS")
      ->delimiter(',');
  cmd->add_option("--prometheus-timeout", f.prometheus_timeout_s, "Per-scrape timeout, s")
      ->envname("JOULEPERF_PROMETHEUS_TIMEOUT")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--prometheus-max-hz", f.prometheus_max_hz, "Highest scrape rate per exporter, Hz")
      ->envname("JOULEPERF_PROMETHEUS_MAX_HZ")
      ->check(CLI::Range(0.01, 100.0))
      ->capture_default_str();
  cmd->add_option("--dcgm-interval", f.dcgm_interval_s,
                  "The DCGM exporter's collect interval (its -c), s: how often its values change")
      ->envname("JOULEPERF_DCGM_INTERVAL")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--cpu-idle-w", f.cpu_idle_w, "CPU-time model: power at idle, W (default from the TDP table)")
      ->envname("JOULEPERF_CPU_IDLE_W")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cpu-max-w", f.cpu_max_w, "CPU-time model: power at full load, W (default from the TDP table)")
      ->envname("JOULEPERF_CPU_MAX_W")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--hz", f.hz, "Sampling rate of power sensors, Hz")
      ->envname("JOULEPERF_HZ")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  cmd->add_option("--counter-hz", f.counter_hz,
                  "Sampling rate of energy counters, Hz (0 = same as --hz); counters accumulate, so a slower rate "
                  "loses no energy")
      ->envname("JOULEPERF_COUNTER_HZ")
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
}

std::unique_ptr<Sampler> start_sampler(const SensorFlags& flags, const Clock& clock, std::string_view command) {
  auto sampler = open_sampler(flags, clock, command);
  if (!sampler) return nullptr;
  if (auto st = sampler->start(true); !st) {
    std::cerr << "jouleperf " << command << ": " << st.error().to_string() << "\n";
    return nullptr;
  }
  return sampler;
}

std::unique_ptr<Sampler> open_sampler(const SensorFlags& flags, const Clock& clock, std::string_view command) {
  auto started =
      jouleperf::open_sampler(default_sensor_registry(), to_sensor_options(flags), to_sampler_config(flags), clock);
  if (!started) {
    std::cerr << "jouleperf " << command << ": " << started.error().to_string() << "\n";
    return nullptr;
  }
  if (started->estimated_fallback) std::cerr << "jouleperf " << command << ": " << started->notice << "\n";
  return std::move(started->sampler);
}

}  // namespace jouleperf::cli
