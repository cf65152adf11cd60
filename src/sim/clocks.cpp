#include "jouleperf/sim/clocks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jouleperf::sim {

double voltage_ratio(double r) {
  const double x = std::clamp(r, 0.0, 1.0);
  if (x <= kVoltageKneeRatio) return kVoltageFloor;
  return kVoltageFloor + (1.0 - kVoltageFloor) * (x - kVoltageKneeRatio) / (1.0 - kVoltageKneeRatio);
}

double dynamic_power_scale(double r) {
  const double v = voltage_ratio(r);
  return std::clamp(r, 0.0, 1.0) * v * v;
}

Result<double> clock_ratio_of(double mhz, const hardware::HardwareProfile& hw) {
  if (!(hw.max_clock_mhz > 0.0))
    return make_error(Errc::kUnsupported,
                      fmt::format("hardware '{}' has no max_clock_mhz: give the clock as a ratio of the maximum "
                                  "(gpu_clock_ratio), or add max_clock_mhz to the profile",
                                  hw.name));
  if (!(mhz > 0.0) || mhz > hw.max_clock_mhz || !std::isfinite(mhz))
    return make_error(Errc::kInvalidArgument, fmt::format("locked clock {:g} MHz on '{}': must be in (0, {:g}] MHz",
                                                          mhz, hw.name, hw.max_clock_mhz));
  return mhz / hw.max_clock_mhz;
}

Status validate_clocks(const ClockSettings& c, const hardware::HardwareProfile& hw) {
  if (!c.any()) return {};
  if (hw.kind != hardware::DeviceKind::kGpu)
    return make_error(Errc::kUnsupported,
                      fmt::format("'{}' is a CPU: the simulator models GPU clocks and power limits only", hw.name));
  if (c.power_limit_w && (!(*c.power_limit_w > hw.idle_w) || !std::isfinite(*c.power_limit_w)))
    return make_error(Errc::kInvalidArgument, fmt::format("power limit {:g} W on '{}': must be above its idle {:g} W",
                                                          *c.power_limit_w, hw.name, hw.idle_w));
  for (const auto& [what, ratio] :
       {std::pair{"clock ratio", c.clock_ratio}, std::pair{"prefill clock ratio", c.prefill_clock_ratio},
        std::pair{"decode clock ratio", c.decode_clock_ratio}})
    if (ratio && !(*ratio >= kMinClockRatio && *ratio <= 1.0))
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{} {:g}: must be in [{:g}, 1]", what, *ratio, kMinClockRatio));
  return {};
}

}  // namespace jouleperf::sim
