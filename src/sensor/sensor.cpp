#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

std::string_view energy_source_name(EnergySource s) {
  switch (s) {
    case EnergySource::kCounter: return "counter";
    case EnergySource::kPowerIntegral: return "power-integral";
    case EnergySource::kCpuTimeModel: return "cpu-time-model";
  }
  return "unknown";
}

}  // namespace jouleperf
