#include "thermal_flags.hpp"

namespace jouleperf::cli {

void add_thermal_flags(CLI::App* cmd, study::ThermalOptions& o, std::string& thermal_root, std::string& hwmon_root) {
  const char* group = "Thermal protocol";
  cmd->add_option("--cooldown-temp", o.cooldown_temp_c,
                  "Before a batch of another cell, wait until every watched device is at or below this, C")
      ->group(group);
  cmd->add_option("--cooldown-s", o.cooldown_s,
                  "Before a batch of another cell, wait this long, s; with --cooldown-temp, the longest wait")
      ->group(group);
  cmd->add_option("--cooldown-max-s", o.cooldown_max_s, "Longest wait for --cooldown-temp without --cooldown-s, s")
      ->capture_default_str()
      ->group(group);
  cmd->add_flag("--warmup-steady", o.warm_to_steady,
                "Before a configuration's first measured cell, run its batch until the temperature is steady")
      ->group(group);
  cmd->add_option("--steady-slope", o.steady_slope_c_per_min,
                  "Steady: every device's temperature slope over the window below this, C per minute")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--steady-window", o.steady_window_s, "Steady: the window the slope is fitted over, s")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--warmup-max-s", o.warmup_max_s,
                  "Longest warm-up, s; cells after a warm-up that reached it say they were measured unsteady")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--thermal-poll", o.poll_s, "How often the devices are read, s")->capture_default_str()->group(group);
  cmd->add_option("--thermal-root", thermal_root, "Thermal zones of the CPU (sysfs; tests: a fake tree)")
      ->envname("JOULEPERF_THERMAL_ROOT")
      ->capture_default_str()
      ->group(group);
  cmd->add_option(
         "--hwmon-root", hwmon_root,
         "hwmon devices; the CPU's (coretemp, k10temp, zenpower, cpu_thermal) are watched (tests: a fake tree)")
      ->envname("JOULEPERF_HWMON_ROOT")
      ->capture_default_str()
      ->group(group);
}

}  // namespace jouleperf::cli
