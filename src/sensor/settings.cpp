#include "jouleperf/sensor/settings.hpp"

namespace jouleperf {

SensorOptions to_sensor_options(const SensorSettings& f) {
  SensorOptions o;
  o.names = f.sensors;
  o.rapl.powercap_root = f.powercap_root;
  o.nvml.library = f.nvml_lib;
  o.nvml.visible_devices = f.cuda_visible_devices;
  o.prometheus.urls = f.prometheus;
  o.prometheus.timeout_s = f.prometheus_timeout_s;
  o.prometheus.max_scrape_hz = f.prometheus_max_hz;
  o.prometheus.dcgm_interval_s = f.dcgm_interval_s;
  o.cpu_model.idle_w = f.cpu_idle_w;
  o.cpu_model.max_w = f.cpu_max_w;
  return o;
}

SamplerConfig to_sampler_config(const SensorSettings& f) {
  SamplerConfig c;
  c.hz = f.hz;
  c.counter_hz = f.counter_hz;
  return c;
}

}  // namespace jouleperf
