// JSON form of hardware profiles: `hardware show --json` writes it, user profile files
// are read in the same schema (docs/simulator.md, "Hardware profiles").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"

namespace jouleperf::hardware {

// {"name","display_name","vendor","kind","aliases","peak_flops":{"fp32","tf32","bf16","fp8",
//  "int8"},"memory_bandwidth_bps","memory_bytes","tdp_w","idle_w","tp_link":{"name",
//  "bandwidth_bps","latency_s"},"max_tp","origin","sources":{field: text}}
nlohmann::json to_json(const HardwareProfile& p);

// One profile from its JSON object, starting from `base` (a built-in named by "based_on",
// or an empty profile). Every field present replaces the base's; its source is taken from
// "sources" or, when absent, set to "user profile <origin>". kParse for a field of the
// wrong type or an unknown key; the result is not validated here.
Result<HardwareProfile> profile_from_json(const nlohmann::json& j, const HardwareProfile& base,
                                          const std::string& origin);

}  // namespace jouleperf::hardware
