// Energy to emissions: gCO2e = kWh at the device * PUE * grid carbon intensity.
#pragma once

#include <string>

#include "jouleperf/core/result.hpp"

namespace jouleperf::estimate {

// Defaults (docs/estimate.md): 390 g/kWh is the US EIA's 2022 figure for U.S. utility-scale
// generation (0.86 lb CO2 per kWh; CO2 only), and 1.58 is the Uptime Institute's 2023
// global average data-centre PUE. Both are averages; set your own grid and site.
struct CarbonOptions {
  double intensity_g_per_kwh = 390.0;  // grid carbon intensity, gCO2e per kWh
  double pue = 1.58;                   // power usage effectiveness, >= 1
  std::string source =
      "390 g/kWh: US EIA, U.S. utility-scale generation 2022 (0.86 lb CO2/kWh, CO2 only); PUE 1.58: Uptime "
      "Institute Global Data Center Survey 2023 average";
};

// Sets `carbon.source` to say which figure the user set (`intensity_set`, `pue_set`) and
// which is a default with its source; unchanged when neither was set. Never fails.
void describe_carbon_source(CarbonOptions& carbon, bool intensity_set, bool pue_set);

// kInvalidArgument for a negative or non-finite intensity, or a PUE below 1.
Status validate(const CarbonOptions& carbon);

// Watt-hours of `energy_j` (J / 3600).
double to_wh(double energy_j);
// Grams CO2e of `energy_j` measured at the device: energy_j / 3.6e6 * PUE * intensity.
double gco2e(double energy_j, const CarbonOptions& carbon);

}  // namespace jouleperf::estimate
