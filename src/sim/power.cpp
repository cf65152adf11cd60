#include "jouleperf/sim/power.hpp"

#include <algorithm>
#include <cmath>

namespace jouleperf::sim {

PowerModel default_power_model(hardware::DeviceKind kind) {
  PowerModel m;
  if (kind == hardware::DeviceKind::kCpu) {
    m.active_floor = 0.30;
    m.memory_weight = 0.70;
    m.exponent = 0.8;
  }
  return m;
}

Status validate_power_model(const PowerModel& m) {
  if (!(m.active_floor >= 0.0 && m.active_floor <= 1.0))
    return make_error(Errc::kInvalidArgument, "power model: active_floor must be in [0, 1]");
  if (!(m.memory_weight >= 0.0) || !std::isfinite(m.memory_weight))
    return make_error(Errc::kInvalidArgument, "power model: memory_weight must be finite and >= 0");
  if (!(m.exponent > 0.0 && m.exponent <= 1.0))
    return make_error(Errc::kInvalidArgument, "power model: exponent must be in (0, 1]");
  return {};
}

double activity(const PowerModel& m, double compute_util, double memory_util) {
  return std::clamp(compute_util + m.memory_weight * memory_util, 0.0, 1.0);
}

double step_power_w(const PowerModel& m, const hardware::HardwareProfile& hw, double a) {
  const double f = m.active_floor + (1.0 - m.active_floor) * std::pow(std::clamp(a, 0.0, 1.0), m.exponent);
  return hw.idle_w + (hw.tdp_w - hw.idle_w) * f;
}

}  // namespace jouleperf::sim
