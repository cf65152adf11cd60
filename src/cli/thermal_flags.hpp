// The thermal protocol's flags (issue 19, docs/controls.md): the cool-down gate, the
// warm-up to steady state and where CPU temperatures are read.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "jouleperf/study/thermal.hpp"

namespace jouleperf::cli {

// --cooldown-temp, --cooldown-s, --cooldown-max-s, --warmup-steady, --steady-slope,
// --steady-window, --warmup-max-s, --thermal-poll, --thermal-root and --hwmon-root.
void add_thermal_flags(CLI::App* cmd, study::ThermalOptions& o, std::string& thermal_root, std::string& hwmon_root);

}  // namespace jouleperf::cli
