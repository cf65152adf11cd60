// Clocks and power limits in the simulator (docs/simulator.md, "Clocks and power caps"):
// a GPU's graphics clock locked below its maximum, or a board power limit that the
// device meets by running at the highest clock whose power fits under it. At a clock
// ratio r = f / f_max:
//  - time: compute and device-side kernel gaps scale with 1 / r; memory streaming does not
//    (HBM has its own clock) until r falls below kMemorySaturationRatio, under which the
//    SMs no longer issue enough loads to keep the bandwidth (time x kMemorySaturationRatio / r);
//    host work, dispatch and tensor-parallel communication do not scale;
//  - power: idle is unchanged; the clock-driven part of the dynamic power (the active floor
//    and the matrix units' share of the activity) scales with r (V(r) / V_max)^2; the
//    memory share of the activity does not. V(r) / V_max = voltage_ratio(r).
#pragma once

#include <optional>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::sim {

struct ClockSettings {
  std::optional<double> power_limit_w;  // board power limit per device, W (NVML's power management limit)
  std::optional<double> clock_ratio;    // locked graphics clock / the maximum, in (0, 1]
  // Per-phase clocks: a step carrying prompt tokens (a prefill chunk, alone or with decode
  // rows) runs at prefill_clock_ratio, a decode-only step at decode_clock_ratio; each unset
  // falls back to clock_ratio. Switching is taken as free — as when prefill and decode run
  // on separate devices (Splitwise) or a phase-aware governor amortizes the switch; a
  // single device that relocks its clock every step pays NVML's switch latency, not modelled.
  std::optional<double> prefill_clock_ratio;
  std::optional<double> decode_clock_ratio;
  bool phased() const { return prefill_clock_ratio.has_value() || decode_clock_ratio.has_value(); }
  bool any() const { return power_limit_w.has_value() || clock_ratio.has_value() || phased(); }
  // The locked clock ratio of a step (1 when none is locked).
  double ratio_for(bool has_prompt) const {
    const auto& phase = has_prompt ? prefill_clock_ratio : decode_clock_ratio;
    return phase.value_or(clock_ratio.value_or(1.0));
  }
};

// Lowest clock ratio the simulator runs at (a cap that cannot be met even there leaves
// the device at this ratio, above the cap). NVIDIA data-center GPUs list graphics clocks
// down to about a tenth of their maximum (210 of 1,410 MHz on A100).
inline constexpr double kMinClockRatio = 0.15;
// Below this clock ratio memory-bound work slows (the SMs cannot keep HBM busy).
inline constexpr double kMemorySaturationRatio = 0.25;
// The voltage curve: flat at kVoltageFloor x V_max up to the knee ratio, then linear to
// V_max at r = 1 (the shape measured on NVIDIA GPUs by Mei, Wang and Chu, "A survey and
// measurement study of GPU DVFS on energy conservation", Digital Communications and
// Networks 3(2), 2017: voltage constant at low frequency, rising about linearly above).
inline constexpr double kVoltageFloor = 0.70;
inline constexpr double kVoltageKneeRatio = 0.50;

// V(r) / V_max for a clock ratio r in (0, 1].
double voltage_ratio(double r);
// The clock-driven dynamic power at ratio r relative to r = 1: r (V(r) / V_max)^2.
double dynamic_power_scale(double r);

// A clock ratio from a locked clock in MHz on `hw`: kUnsupported when the profile has no
// max_clock_mhz (give the ratio instead), kInvalidArgument outside (0, max_clock_mhz].
Result<double> clock_ratio_of(double mhz, const hardware::HardwareProfile& hw);

// kInvalidArgument for a power limit not above the device's idle power or not finite, or
// a ratio outside [kMinClockRatio, 1]; kUnsupported on a CPU profile (the simulator models
// GPU clocks only).
Status validate_clocks(const ClockSettings& c, const hardware::HardwareProfile& hw);

}  // namespace jouleperf::sim
