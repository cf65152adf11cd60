// Chargeback: a replay's energy per request summed per value of a trace column (tenant,
// model, log type — `replay --group-by COLUMN`), with each group's share and emissions
// (docs/serving.md, "Chargeback"). The groups plus the idle energy no request took add
// up to the run's measured total.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/attribution.hpp"
#include "jouleperf/estimate/carbon.hpp"

namespace jouleperf::study {

struct GroupEnergy {
  std::string group;  // the column's value ("" where a row had none)
  std::size_t requests = 0, failed = 0;
  double energy_j = 0, prefill_j = 0, decode_j = 0, idle_j = 0;
  std::optional<double> above_idle_j;  // where the attribution has it
  double share = 0;                    // energy_j / the run's total
  double gco2e = 0;                    // energy_j at the device, through PUE and the grid's intensity
};

struct Chargeback {
  std::string column;
  std::vector<GroupEnergy> groups;  // by energy, largest first
  double total_j = 0;               // the run's measured total
  double unattributed_idle_j = 0;   // idle energy no group took (idle policy none)
  double unattributed_gco2e = 0;
  estimate::CarbonOptions carbon;
};

// Sums `split`'s requests by `groups` (one value per request, in the same order).
// kInvalidArgument when the sizes differ or the carbon options are invalid.
Result<Chargeback> charge_by_group(const std::string& column, std::span<const std::string> groups,
                                   std::span<const RequestTimeline> timelines, const Attribution& split,
                                   const estimate::CarbonOptions& carbon);

// {"column", "total_j", "unattributed_idle_j", "unattributed_gco2e", "carbon": {...},
//  "groups": [{"group", "requests", "failed", "energy_j", "prefill_j", "decode_j",
//  "idle_j", "above_idle_j", "share", "gco2e"}]}.
nlohmann::json chargeback_json(const Chargeback& c);

}  // namespace jouleperf::study
