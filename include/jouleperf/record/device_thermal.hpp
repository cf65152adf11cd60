// What the devices did around one measured repetition (issue 19, the thermal protocol;
// docs/controls.md): temperatures at its start and end, the power limit and clock in
// force, the clock throttle reasons seen, and the cool-down waited before it. Stored in
// each repetition of a cell (record/cell.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf::record {

// One device over one repetition, read from NVML (GPUs) or thermal zones (CPUs).
struct DeviceThermal {
  std::string domain;  // "gpu:0", "thermal:x86_pkg_temp"
  std::optional<double> temp_start_c, temp_end_c, temp_max_c;
  std::optional<double> power_limit_w;  // enforced limit, read back from the device (GPUs)
  std::optional<double> sm_clock_mhz;   // SM clock at the end, read back (GPUs)
  // Every clock throttle reason NVML reported during the repetition ("sw_power_cap",
  // "sw_thermal_slowdown", "gpu_idle", ...; nvml::throttle_reason_names); unset when the
  // device does not report them.
  std::optional<std::vector<std::string>> throttle_reasons;
};

// The cool-down gate waited before a repetition (--cooldown-temp, --cooldown-s).
struct CoolDown {
  std::optional<double> target_c;  // the temperature waited for; unset for a fixed wait
  double waited_s = 0.0;
  bool reached = true;           // the target was met before the longest wait (always, for a fixed wait)
  std::optional<double> temp_c;  // the hottest device when the wait ended
};

nlohmann::json to_json(const DeviceThermal& d);
nlohmann::json to_json(const CoolDown& c);
// kParse naming the field.
Result<DeviceThermal> device_thermal_from_json(const nlohmann::json& j);
Result<CoolDown> cooldown_from_json(const nlohmann::json& j);

}  // namespace jouleperf::record
