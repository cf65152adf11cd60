// Placeholder: replaced by the real prometheus sensor.
#include "jouleperf/sensor/prometheus.hpp"

namespace jouleperf {

Result<std::vector<std::unique_ptr<Sensor>>> open_prometheus_sensors(const PrometheusOptions&, const Clock&,
                                                                     std::vector<SensorProblem>&) {
  return make_error(Errc::kUnsupported, "prometheus sensor not built yet");
}

}  // namespace jouleperf
