#include "jouleperf/estimate/carbon.hpp"

#include <fmt/format.h>

#include <cmath>

namespace jouleperf::estimate {

void describe_carbon_source(CarbonOptions& c, bool intensity_set, bool pue_set) {
  if (!intensity_set && !pue_set) return;
  c.source = fmt::format("{:g} g/kWh {}; PUE {:g} {}", c.intensity_g_per_kwh,
                         intensity_set ? "set by the user" : "(US EIA, U.S. utility-scale generation 2022, CO2 only)",
                         c.pue, pue_set ? "set by the user" : "(Uptime Institute 2023 global average)");
}

Status validate(const CarbonOptions& carbon) {
  if (!std::isfinite(carbon.intensity_g_per_kwh) || carbon.intensity_g_per_kwh < 0.0)
    return make_error(Errc::kInvalidArgument, "carbon intensity must be a finite number >= 0 g/kWh");
  if (!std::isfinite(carbon.pue) || carbon.pue < 1.0)
    return make_error(Errc::kInvalidArgument, "PUE must be a finite number >= 1 (total site power / IT power)");
  return {};
}

double to_wh(double energy_j) { return energy_j / 3600.0; }

double gco2e(double energy_j, const CarbonOptions& carbon) {
  return energy_j / 3.6e6 * carbon.pue * carbon.intensity_g_per_kwh;
}

}  // namespace jouleperf::estimate
