// The machine-settings flags (issue 19, docs/controls.md): where the settings journal is
// and the sysfs roots of cpufreq and powercap; and the step every measuring command that
// changes settings takes first: putting back what a killed jouleperf left changed.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/settings_journal.hpp"

namespace jouleperf::cli {

struct SettingsFlags {
  std::string journal = SettingsJournal::default_path();
  std::string cpufreq_root = "/sys/devices/system/cpu";
  std::string powercap_root = "/sys/class/powercap";  // restore's own; sweep shares --powercap-root
  std::string nvml_lib = "libnvidia-ml.so.1";         // restore's own; sweep shares --nvml-lib
};

// --settings-journal; with `roots`, also --cpufreq-root, --powercap-root and --nvml-lib.
void add_settings_flags(CLI::App* cmd, SettingsFlags& f, bool roots);

// Restores the journal's pending settings, saying each on stderr as "jouleperf <command>:
// restored ...". Fails as SettingsJournal::open / restore fail (the settings that could
// not be restored stay pending and are named), and with kTimeout, touching nothing, while
// the process that wrote the journal still runs — unless `even_if_running` (`jouleperf
// restore`: the user asked, e.g. when the pid was reused by another program).
Status restore_left_settings(const SettingsFlags& f, std::string_view command, bool even_if_running = false);

// Installs handlers for SIGINT and SIGTERM that set the returned flag (a sweep then stops
// after the batch in progress and restores the machine settings); a second signal acts as
// the default (SA_RESETHAND), and what a killed run left is restored by the next one.
const std::atomic<bool>* stop_on_signals();

// The exit status of a command ended by SIGINT or SIGTERM, as a shell reports it.
inline constexpr int kExitInterrupted = 130;

}  // namespace jouleperf::cli
