#include "settings_flags.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <iostream>

#include "jouleperf/sensor/nvml_settings.hpp"

namespace jouleperf::cli {

namespace {
// The one piece of process-wide state: what a signal handler may touch.
std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>* stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  return &g_stop;
}

void add_settings_flags(CLI::App* cmd, SettingsFlags& f, bool roots) {
  cmd->add_option("--settings-journal", f.journal,
                  "Journal of changed machine settings; settings a killed jouleperf left in it are put back first")
      ->capture_default_str();
  if (!roots) return;
  cmd->add_option("--cpufreq-root", f.cpufreq_root, "cpufreq sysfs root (tests: a fake tree)")->capture_default_str();
  cmd->add_option("--powercap-root", f.powercap_root, "powercap sysfs root (tests: a fake tree)")
      ->capture_default_str();
  cmd->add_option("--nvml-lib", f.nvml_lib, "NVML library to dlopen (loaded only for a GPU setting)")
      ->envname("JOULEPERF_NVML_LIB")
      ->capture_default_str();
}

Status restore_left_settings(const SettingsFlags& f, std::string_view command, bool even_if_running) {
  auto journal = SettingsJournal::open(f.journal);
  if (!journal) return journal.error();
  if (journal->pending().empty()) return {};
  if (!even_if_running && journal->writer_alive())  // another sweep on this node holds them in force on purpose
    return make_error(Errc::kTimeout,
                      fmt::format("settings journal {}: pid {} is running with machine settings changed; wait for it "
                                  "(one sweep per node changes settings); if that pid is no jouleperf (reused after a "
                                  "crash), run `jouleperf restore`",
                                  f.journal, journal->writer_pid()));
  const auto pending = journal->pending();
  auto cpufreq = cpufreq_writer(f.cpufreq_root);
  auto powercap = powercap_writer(f.powercap_root);
  auto nvml = nvml_writer(f.nvml_lib);  // loads NVML only when a GPU setting is pending
  const auto st = journal->restore({cpufreq.get(), powercap.get(), nvml.get()});
  for (const auto& s : pending) {
    const bool left = std::any_of(journal->pending().begin(), journal->pending().end(), [&](const DeviceSetting& p) {
      return p.backend == s.backend && p.target == s.target;
    });
    std::cerr << "jouleperf " << command << ": " << (left ? "NOT restored" : "restored") << " (left changed by an "
              << "earlier jouleperf): " << s.backend << " " << s.target << " = " << s.original << "\n";
  }
  return st;
}

}  // namespace jouleperf::cli
