// Power of a device during a step: idle + (TDP - idle) * f(activity), where activity
// combines the share of the step the matrix units run at peak and the share the memory
// streams at peak bandwidth. f and its parameters are documented in docs/simulator.md.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::sim {

struct PowerModel {
  // f(a) = active_floor + (1 - active_floor) * a^exponent for a step in progress;
  // a = min(1, compute_weight * compute_util + memory_weight * memory_util).
  double active_floor = 0.10;   // share of (TDP - idle) drawn whenever a step runs (clocks up)
  double memory_weight = 0.40;  // dynamic power of streaming at peak bandwidth, relative to
                                // the matrix units at peak
  double exponent = 0.8;        // < 1: power rises fast at low activity, then saturates
  double compute_weight = 1.0;  // >= 1: 1 / the matrix-unit utilization (of dense peak) at
                                // which the device alone reaches TDP (a power-capped GPU gets
                                // there far below its datasheet peak)
};

// Defaults for a device kind: GPUs the figures fitted to ML.ENERGY measurements
// (active_floor 0.2, memory_weight 0.562, compute_weight 4.44, exponent 0.8; see
// power_model_calibration); CPUs active_floor 0.30, memory_weight 0.70
// (cores spin while waiting on DRAM), exponent 0.8.
PowerModel default_power_model(hardware::DeviceKind kind);

// Where default_power_model(kind)'s figures come from: for GPUs, which were fitted, to
// what, and the leave-one-out error; "" for CPUs (engineering estimates).
std::string_view power_model_calibration(hardware::DeviceKind kind);

// Checks active_floor in [0, 1], memory_weight >= 0, compute_weight >= 1, exponent in
// (0, 1] (f(a) >= a and a >= compute util, which
// keeps every simulated energy at or above the FLOPs-ideal one). kInvalidArgument.
Status validate_power_model(const PowerModel& m);

// Activity a in [0, 1] from the two utilizations (each the share of the step at peak).
inline double activity(const PowerModel& m, double compute_util, double memory_util) {
  return std::clamp(m.compute_weight * compute_util + m.memory_weight * memory_util, 0.0, 1.0);
}

// Power of one device during a step of activity `a`, W.
double step_power_w(const PowerModel& m, const hardware::HardwareProfile& hw, double a);

// Power of one device during a step at clock ratio r (clocks.hpp), W: idle + (TDP - idle)
// x [floor S + (1 - floor) a^exponent (c S + (1 - c))], with S = dynamic_power_scale(r)
// and c the matrix units' share of the activity (compute_weight cu / (compute_weight cu +
// memory_weight mu)). Equals step_power_w at r = 1.
double clocked_power_w(const PowerModel& m, const hardware::HardwareProfile& hw, double compute_util,
                       double memory_util, double r);

// step_power_w tabulated for the simulator's inner loop: 1024 intervals whose ends are at
// (i/1024)^2 (finer near 0, where a^exponent is steep), linear in between. Chords of the
// concave curve lie just below it (within 3e-4 of TDP) and above the chords of a, so
// f(a) >= a still holds.
class PowerCurve {
 public:
  PowerCurve() = default;
  PowerCurve(const PowerModel& m, const hardware::HardwareProfile& hw);
  // Power at activity a (clamped to [0, 1]), W.
  double power_w(double a) const;

 private:
  static constexpr int kIntervals = 1024;
  std::vector<double> value_;  // power at a_i = (i / kIntervals)^2
  std::vector<double> slope_;  // W per unit of activity on [a_i, a_i+1]
};

}  // namespace jouleperf::sim
