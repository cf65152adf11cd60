#include "jouleperf/estimate/carbon.hpp"

#include <cmath>

namespace jouleperf::estimate {

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
