// JSON form of a software stack's figures and of the power model, so that a fitted
// deployment (`jouleperf calibrate --save FILE`) can be given back to the simulator
// (`jouleperf simulate --stack-file FILE`). Format in docs/simulator.md ("Calibration").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

// {"name","based_on","description", and every numeric figure of the stack by field name}.
// `based_on` names the built-in stack whose flags (graphs, cache behaviour) it keeps.
nlohmann::json stack_to_json(const SoftwareStack& s, const std::string& based_on);
// {"active_floor","memory_weight","exponent"}.
nlohmann::json power_to_json(const PowerModel& m);

// A stack from its JSON object: the built-in named by "based_on" (required) with every
// numeric field present replacing its figure. kParse naming `origin` and the key for an
// unknown key or a value of the wrong type; kNotFound for an unknown based_on;
// kInvalidArgument as validate_stack fails.
Result<SoftwareStack> stack_from_json(const nlohmann::json& j, const std::string& origin);
// A power model from its JSON object, starting from `base`. kParse / kInvalidArgument as above.
Result<PowerModel> power_from_json(const nlohmann::json& j, const PowerModel& base, const std::string& origin);

// What a stack file holds: the top-level "stack" object (required) and "power" (optional).
// Other top-level keys ("profiles", "calibration") are ignored.
struct StackFile {
  SoftwareStack stack;
  std::optional<nlohmann::json> power;  // applied over the device kind's default by the caller
};
// Reads a stack file. kNotFound / kIo reading it, kParse for bad JSON or no "stack" object,
// and stack_from_json's errors.
Result<StackFile> load_stack_file(const std::string& path);

}  // namespace jouleperf::sim
