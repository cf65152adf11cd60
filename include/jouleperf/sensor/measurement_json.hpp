// JSON form of the meter's results: the one field schema that every reporter of a
// measured interval uses. Every energy carries its source and `estimated`.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

// {"sensor","domain","energy_j","power_w","uncertainty_j","energy_source","estimated",
//  "samples","failed_reads","below_resolution","in_total","stale_end","rejected_reads","counter_gaps",
//  "gap_s","incomplete","rejection" (why the latest rejected read was rejected, or null)
//  [, "idle_power_w","above_idle_j"]}
nlohmann::json to_json(const DomainEnergy& d);
// {"name","start_s","end_s","duration_s","energy_j","power_w","uncertainty_j","energy_source",
//  "estimated","below_resolution","rejected_reads","incomplete"[, "above_idle_j"], "domains":[...]}
nlohmann::json to_json(const IntervalEnergy& iv);
// The total's fields at top level, plus "phases" and "idle" ({"power_w","basis"} or null).
nlohmann::json to_json(const Measurement& m);
// {"name","domain","description","energy_counter","power","estimated","resolution_j",
//  "power_resolution_w","update_interval_s","in_total","max_power_w"}
nlohmann::json to_json(const SensorInfo& info);

}  // namespace jouleperf
