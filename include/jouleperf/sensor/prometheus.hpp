// Energy from Prometheus exporters over HTTP: DCGM exporter, node exporter (RAPL), Kepler.
// Each endpoint is one node; several endpoints measure a deployment that spans machines.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

struct PrometheusOptions {
  std::vector<std::string> urls;  // e.g. http://gpu-node-1:9400/metrics; env JOULEPERF_PROMETHEUS
  double timeout_s = 2.0;         // per scrape
};

// Opens one sensor per endpoint (domain "node:<host:port>"). Fails with kNetwork when
// an endpoint cannot be scraped and kUnsupported when it exposes no known energy or
// power metric; the message names the URL.
Result<std::vector<std::unique_ptr<Sensor>>> open_prometheus_sensors(const PrometheusOptions& opts, const Clock& clock,
                                                                     std::vector<SensorProblem>& problems);

}  // namespace jouleperf
