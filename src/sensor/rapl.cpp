// Placeholder: replaced by the real rapl sensor.
#include "jouleperf/sensor/rapl.hpp"

namespace jouleperf {

Result<std::vector<std::unique_ptr<Sensor>>> open_rapl_sensors(const RaplOptions&, const Clock&,
                                                               std::vector<SensorProblem>&) {
  return make_error(Errc::kUnsupported, "rapl sensor not built yet");
}

}  // namespace jouleperf
