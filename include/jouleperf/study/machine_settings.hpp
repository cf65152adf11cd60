// A configuration's machine settings in a sweep (issue 19, docs/controls.md): the study
// settings cpu_max_freq_khz (every CPU's cpufreq scaling_max_freq), cpu_governor
// (scaling_governor), cpu_power_limit_w (the RAPL package limit, powercap zone
// intel-rapl:0 constraint 0), gpu_power_limit_w (NVML power management limit) and
// gpu_locked_clocks_mhz (NVML locked graphics clock) on every GPU the sweep measures. A sim
// config's gpu_* settings are the simulator's (sim engine settings), never applied. Every change goes through the
// settings journal; switching to another configuration first puts the originals back, so a configuration without
// settings runs on the machine as it was; the sweep's end restores everything.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/nvml_library.hpp"
#include "jouleperf/sensor/settings_journal.hpp"
#include "jouleperf/study/grid.hpp"

namespace jouleperf::study {

// The setting names a configuration of any engine may carry.
const std::vector<std::string_view>& machine_setting_keys();

struct MachineSettingsSpec {
  std::optional<long> cpu_max_freq_khz;
  std::optional<std::string> cpu_governor;
  std::optional<double> cpu_power_limit_w;
  std::optional<double> gpu_power_limit_w;
  std::optional<unsigned> gpu_locked_clocks_mhz;
  bool gpu() const { return gpu_power_limit_w || gpu_locked_clocks_mhz; }
  bool any() const { return cpu_max_freq_khz || cpu_governor || cpu_power_limit_w || gpu(); }
};
// A config's machine settings (none for the sim engine); kInvalidArgument naming the config
// and setting for a value that is not a positive number.
Result<MachineSettingsSpec> machine_settings_of(const Config& c);

class MachineSettings {
 public:
  struct Roots {
    std::string cpufreq = "/sys/devices/system/cpu";
    std::string powercap = "/sys/class/powercap";
    std::string nvml_library = "libnvidia-ml.so.1";
    // The GPUs whose settings change: those the sweep measures (their NVML UUIDs).
    std::vector<std::string> gpu_uuids;
  };
  // Opens the journal (restoring nothing: the caller restores leftovers first).
  static Result<MachineSettings> open(const std::string& journal, Roots roots);

  // Checks every config's settings against this machine before anything changes
  // (check_cpu_max_freq, check_cpu_governor, the RAPL zone's range and write access,
  // check_gpu_power_limit and check_gpu_locked_clock on every GPU). Errors name the config;
  // kInvalidArgument for a GPU setting when the sweep measures no GPU.
  Status check(const Study& study);

  // Puts back the originals, then applies `c`'s settings; returns what is in force, read
  // back from the machine ({} when the config has none). Fails as the journal or a writer
  // fails (what was changed stays in the journal for restore()).
  Result<nlohmann::json> apply(const Config& c);

  // Puts every original back (SettingsJournal::restore).
  Status restore();

 private:
  MachineSettings(SettingsJournal j, Roots roots);
  Result<std::shared_ptr<const NvmlLibrary>> nvml();
  Status check_gpus(const MachineSettingsSpec& s);
  SettingsJournal journal_;
  Roots roots_;
  std::unique_ptr<SettingWriter> cpufreq_, powercap_, nvml_writer_;
  std::shared_ptr<const NvmlLibrary> nvml_;
};

}  // namespace jouleperf::study
