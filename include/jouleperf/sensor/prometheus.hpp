// Energy from Prometheus exporters over HTTP: DCGM exporter, node exporter (RAPL), Kepler.
// Each endpoint is one node; several endpoints measure a deployment that spans machines.
// Metric names, units and pitfalls: docs/sensors.d/prometheus.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct PrometheusOptions {
  std::vector<std::string> urls;   // e.g. http://gpu-node-1:9400/metrics; env JOULEPERF_PROMETHEUS
  double timeout_s = 2.0;          // per scrape, s
  double max_scrape_hz = 10.0;     // highest read rate per endpoint, Hz (sets poll_interval_s): a
                                   // scrape is an HTTP request and a full exposition to format
  double dcgm_interval_s = 30.0;   // the DCGM exporter's collect interval, s (its -c /
                                   // DCGM_EXPORTER_INTERVAL, default 30000 ms): how often its values change
  double kepler_interval_s = 0.0;  // Kepler's refresh period, s; 0 = by release: 3 s for <= 0.7
                                   // (SAMPLE_PERIOD_SEC), 5 s for >= 0.10 (monitor.interval)
  // Physical bound on each series' power, W, overriding the defaults below (one series is
  // one GPU, one RAPL zone, one Kepler component or mode).
  std::optional<double> series_max_power_w;
};

// Default bounds per series, W (docs/sensors.md, "Plausibility"): a GPU (DCGM, Kepler
// gpu) 2,000; a RAPL package (node exporter, Kepler) 1,000; DRAM 500; psys 5,000; Kepler's
// platform (the whole node, GPUs included) 20,000. A counter series is also allowed the
// exporter's update interval, and at least 1 s, of slack: the value's own time is only
// known to within the scrape, and exporters cache.
inline constexpr double kPromGpuMaxPowerW = 2000.0;
inline constexpr double kPromPackageMaxPowerW = 1000.0;
inline constexpr double kPromDramMaxPowerW = 500.0;
inline constexpr double kPromPsysMaxPowerW = 5000.0;
inline constexpr double kPromPlatformMaxPowerW = 20000.0;
inline constexpr double kPromMinSlackS = 1.0;

// Opens one sensor per endpoint (name "prometheus", domain "node:<host:port>"). At open
// each endpoint is scraped once and the first family found, in this order, is used:
// DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ counter, summed over GPUs), else
// DCGM_FI_DEV_POWER_USAGE (W, summed over GPUs: a power sensor); node exporter
// node_rapl_{package,dram}_joules_total (or node_rapl_joules_total{rapl_zone=...});
// Kepler node counters (kepler_node_cpu_joules_total{zone=...} from 0.10 on,
// kepler_node_platform_joules_total or kepler_node_{package,dram,gpu}_joules_total before).
// Counters are unwrapped per series with Prometheus' increase() semantics: a decrease
// is a reset and the new value counts from zero, when that is plausible.
// Plausibility: a series value that is NaN, infinite or negative, a power gauge above its
// series' bound, or a counter step (or reset) implying more than the bound makes the whole
// scrape a Reading::rejected (why, naming the URL, line and series): no series changes
// except that a rejected counter remembers the value, to re-base on it if the next
// scrape continues from there (see CounterUnwrapper). caps.max_power_w is the sum of the
// series' bounds.
//
// Every endpoint that fails is appended to `problems`, and then the whole call fails
// with the first endpoint's error (the message names the URL and says how many
// failed): kNetwork when it cannot be scraped (refused, unreachable, HTTP >= 400),
// kTimeout when it does not answer in timeout_s, kParse when its exposition is
// malformed (with the line), kUnsupported when it exposes no known energy or power
// metric (listing what was looked for), kInvalidArgument for bad options or no URL.
Result<std::vector<std::unique_ptr<Sensor>>> open_prometheus_sensors(const PrometheusOptions& opts, const Clock& clock,
                                                                     std::vector<SensorProblem>& problems);

// "host:port" of an http(s) URL (default port 80/443 when none is given), for the
// sensor domain. Returns the URL unchanged when it has no recognizable authority.
std::string prometheus_endpoint_name(const std::string& url);

}  // namespace jouleperf
