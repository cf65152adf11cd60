// Machine settings that a sweep changes — a CPU's maximum frequency and governor
// (cpufreq), the RAPL package power limit (powercap), later a GPU's power limit and
// clocks (NVML) — and the journal that guarantees they are put back (docs/controls.md).
// Before any change the original value goes to a journal file, synced to disk; restore()
// writes the originals back and empties it. A process killed before it restored leaves
// the journal behind: the next jouleperf that opens it (or `jouleperf restore`) finds the
// settings pending and puts them back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// One setting and the value it had before jouleperf changed it.
struct DeviceSetting {
  std::string backend;  // "cpufreq", "powercap", "nvml"
  std::string target;  // the backend's name for it: "cpu3/scaling_max_freq", "intel-rapl:0/constraint_0_power_limit_uw"
  std::string original;  // the value to put back, as the backend reads and writes it
};

// Reads and writes one kind of setting. Errors name the target and, where it is a
// permission, the fix.
class SettingWriter {
 public:
  virtual ~SettingWriter() = default;
  virtual std::string backend() const = 0;
  // The value to put back later, as write() takes it.
  virtual Result<std::string> read(const std::string& target) const = 0;
  virtual Status write(const std::string& target, const std::string& value) = 0;
  // What is in force now, read back from the device, for the record: read() unless the
  // backend cannot read a setting back as written (NVML's locked clocks: the clock now).
  virtual Result<std::string> in_force(const std::string& target) const { return read(target); }
};

// cpufreq through sysfs under `root` (default /sys/devices/system/cpu): targets
// "cpuN/scaling_max_freq" (kHz) and "cpuN/scaling_governor", the files
// <root>/cpuN/cpufreq/scaling_max_freq and .../scaling_governor. kNotFound when the file is
// absent (no cpufreq driver: a VM, a container without /sys), kPermissionDenied naming
// the fix (root, or write access to the sysfs file).
std::unique_ptr<SettingWriter> cpufreq_writer(std::string root = "/sys/devices/system/cpu");
// RAPL power limits through powercap under `root` (default /sys/class/powercap): targets
// "<zone>/constraint_N_power_limit_uw" (uW). Errors as cpufreq_writer's.
std::unique_ptr<SettingWriter> powercap_writer(std::string root = "/sys/class/powercap");

// Checks, before anything changes, that every CPU under `root` with cpufreq accepts a
// maximum frequency of `khz` (cpuinfo_min_freq <= khz <= cpuinfo_max_freq) and that its
// scaling_max_freq is writable. kNotFound (no cpufreq), kInvalidArgument naming the CPU
// and its range, kPermissionDenied naming the file and the fix.
Status check_cpu_max_freq(const std::string& root, long khz);
// The same for a governor: it must be listed in every CPU's scaling_available_governors.
Status check_cpu_governor(const std::string& root, const std::string& governor);
// The CPUs under `root` that have cpufreq ("cpu0", "cpu1", ...), in order.
Result<std::vector<std::string>> cpufreq_cpus(const std::string& root);

class SettingsJournal {
 public:
  // /run/jouleperf/settings.journal as root, else /tmp/jouleperf-settings.journal.
  static std::string default_path();

  // Opens (creating its directory) the journal at `path`. Settings recorded by a process
  // that did not restore them are read into pending(). kParse naming the line for a
  // malformed journal (never guessed at); kIo / kPermissionDenied when it cannot be read.
  static Result<SettingsJournal> open(const std::string& path);

  SettingsJournal(SettingsJournal&&) noexcept = default;
  SettingsJournal& operator=(SettingsJournal&&) noexcept = default;

  const std::string& path() const { return path_; }
  // Settings changed and not yet restored (this process's and earlier ones'), oldest first.
  const std::vector<DeviceSetting>& pending() const { return pending_; }
  // The process that last wrote the journal (0 when none, or not recorded).
  long writer_pid() const { return writer_pid_; }
  // Whether that process still runs and is not this one: its settings are in force on
  // purpose (another sweep on this node), not left behind.
  bool writer_alive() const;

  // Sets `target` to `value`: reads its current value, records it (unless the target is
  // already pending: the first original is the one to restore), syncs the journal, then
  // writes. A failed write leaves the recorded original, which restore() puts back (a
  // no-op when the value did not change). Fails as the writer or the journal fails.
  Status change(SettingWriter& writer, const std::string& target, const std::string& value);

  // Writes every pending original back, newest first, with the writer of its backend;
  // each restored setting leaves the journal (synced), and the file is removed when none
  // is left. A setting whose backend has no writer here, or whose write fails, stays
  // pending and the error names it (the others are still restored).
  Status restore(const std::vector<SettingWriter*>& writers);

 private:
  SettingsJournal(std::string path, std::vector<DeviceSetting> pending, long writer_pid)
      : path_(std::move(path)), pending_(std::move(pending)), writer_pid_(writer_pid) {}
  Status save() const;
  std::string path_;
  std::vector<DeviceSetting> pending_;
  long writer_pid_ = 0;
};

}  // namespace jouleperf
