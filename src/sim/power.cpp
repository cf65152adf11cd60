#include "jouleperf/sim/power.hpp"

#include <algorithm>
#include <cmath>

#include "jouleperf/sim/clocks.hpp"

namespace jouleperf::sim {

namespace {
constexpr std::string_view kGpuPowerCalibration =
    "active_floor 0.2 (bounded to >= 0.2: a GPU running any kernel stream holds boost clocks and draws well above "
    "idle; the file cannot tell the floor from the memory weight), memory_weight 0.562, compute_weight 4.44 fitted "
    "(exponent 0.8 kept) by `jouleperf calibrate --measurements` with the vllm stack to ML.ENERGY Leaderboard v3 "
    "(Chung et al., NeurIPS 2025 D&B): Llama-3.1-8B, vLLM, one H100 SXM, 11 batch sizes, GPU power 486..690 W. "
    "Leave-one-out median |error| of power 2.2 %, of J per "
    "output token 4.3 % (docs/fidelity.md). Other GPUs inherit the shape, scaled by their idle and TDP figures.";
}  // namespace

PowerModel default_power_model(hardware::DeviceKind kind) {
  PowerModel m;
  m.active_floor = 0.2;
  m.memory_weight = 0.562;
  m.compute_weight = 4.44;
  m.exponent = 0.8;
  if (kind == hardware::DeviceKind::kCpu) {
    m.active_floor = 0.30;
    m.memory_weight = 0.70;
    m.exponent = 0.8;
    m.compute_weight = 1.0;
  }
  return m;
}

std::string_view power_model_calibration(hardware::DeviceKind kind) {
  if (kind == hardware::DeviceKind::kCpu) return {};
  return kGpuPowerCalibration;
}

Status validate_power_model(const PowerModel& m) {
  if (!(m.active_floor >= 0.0 && m.active_floor <= 1.0))
    return make_error(Errc::kInvalidArgument, "power model: active_floor must be in [0, 1]");
  if (!(m.memory_weight >= 0.0) || !std::isfinite(m.memory_weight))
    return make_error(Errc::kInvalidArgument, "power model: memory_weight must be finite and >= 0");
  if (!(m.compute_weight >= 1.0) || !std::isfinite(m.compute_weight))
    return make_error(Errc::kInvalidArgument, "power model: compute_weight must be finite and >= 1");
  if (!(m.exponent > 0.0 && m.exponent <= 1.0))
    return make_error(Errc::kInvalidArgument, "power model: exponent must be in (0, 1]");
  return {};
}

double step_power_w(const PowerModel& m, const hardware::HardwareProfile& hw, double a) {
  const double f = m.active_floor + (1.0 - m.active_floor) * std::pow(std::clamp(a, 0.0, 1.0), m.exponent);
  return hw.idle_w + (hw.tdp_w - hw.idle_w) * f;
}

double clocked_power_w(const PowerModel& m, const hardware::HardwareProfile& hw, double compute_util,
                       double memory_util, double r) {
  const double scale = dynamic_power_scale(r);
  const double a = activity(m, compute_util, memory_util);
  const double cw = m.compute_weight * std::max(0.0, compute_util), mw = m.memory_weight * std::max(0.0, memory_util);
  const double compute_share = cw + mw > 0.0 ? cw / (cw + mw) : 0.0;
  const double f = m.active_floor * scale +
                   (1.0 - m.active_floor) * std::pow(a, m.exponent) * (compute_share * scale + (1.0 - compute_share));
  return hw.idle_w + (hw.tdp_w - hw.idle_w) * f;
}

PowerCurve::PowerCurve(const PowerModel& m, const hardware::HardwareProfile& hw)
    : value_(kIntervals + 1), slope_(kIntervals) {
  auto at = [](int i) {
    const double x = static_cast<double>(i) / kIntervals;
    return x * x;
  };
  for (int i = 0; i <= kIntervals; ++i) value_[i] = step_power_w(m, hw, at(i));
  for (int i = 0; i < kIntervals; ++i) slope_[i] = (value_[i + 1] - value_[i]) / (at(i + 1) - at(i));
}

double PowerCurve::power_w(double a) const {
  const double x = std::clamp(a, 0.0, 1.0);
  const int i = std::min(static_cast<int>(std::sqrt(x) * kIntervals), kIntervals - 1);
  const double ai = static_cast<double>(i) / kIntervals;
  return value_[i] + slope_[i] * (x - ai * ai);
}

}  // namespace jouleperf::sim
