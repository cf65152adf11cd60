// Placeholder: replaced by the real nvml sensor.
#include "jouleperf/sensor/nvml.hpp"

namespace jouleperf {

Result<std::vector<std::unique_ptr<Sensor>>> open_nvml_sensors(const NvmlOptions&, const Clock&,
                                                               std::vector<SensorProblem>&) {
  return make_error(Errc::kUnsupported, "nvml sensor not built yet");
}

}  // namespace jouleperf
