#include "jouleperf/sensor/settings_journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/core/text.hpp"

namespace jouleperf {

namespace {

constexpr const char* kFormat = "jouleperf-settings-journal";

// A sysfs file under a root: read trimmed, written whole.
class SysfsWriter final : public SettingWriter {
 public:
  // `subdir`: inserted after the target's first component ("cpu0/scaling_max_freq" ->
  // "cpu0/cpufreq/scaling_max_freq"); "" for none.
  SysfsWriter(std::string backend, std::string root, std::string subdir, std::string fix)
      : backend_(std::move(backend)), root_(std::move(root)), subdir_(std::move(subdir)), fix_(std::move(fix)) {}
  std::string backend() const override { return backend_; }

  Result<std::string> read(const std::string& target) const override {
    if (auto st = check_target(target); !st) return st.error();
    auto text = read_text_file(path(target));
    if (!text) return make_error(text.error().code, fmt::format("{}: {}", backend_, text.error().message));
    return std::string(trim(*text));
  }

  Status write(const std::string& target, const std::string& value) override {
    if (auto st = check_target(target); !st) return st;
    const std::string p = path(target);
    const int fd = ::open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);  // sysfs ignores O_TRUNC; a regular file needs it
    if (fd < 0) return failure(p, errno);
    const ssize_t n = ::write(fd, value.data(), value.size());
    const int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(value.size())) return failure(p, n < 0 ? err : EIO, value);
    return {};
  }

 private:
  std::string path(const std::string& target) const {
    const auto slash = target.find('/');
    if (subdir_.empty() || slash == std::string::npos) return root_ + "/" + target;
    return root_ + "/" + target.substr(0, slash) + "/" + subdir_ + target.substr(slash);
  }
  // Targets are relative paths below the root, never out of it.
  Status check_target(const std::string& target) const {
    if (target.empty() || target.front() == '/' || target.find("..") != std::string::npos)
      return make_error(Errc::kInvalidArgument, fmt::format("{}: \"{}\" is not a setting", backend_, target));
    return {};
  }
  Error failure(const std::string& p, int err, const std::string& value = "") const {
    const Errc code = err == EACCES || err == EPERM ? Errc::kPermissionDenied
                      : err == ENOENT               ? Errc::kNotFound
                      : err == EINVAL               ? Errc::kInvalidArgument
                                                    : Errc::kIo;
    std::string msg =
        fmt::format("{}: cannot write {}{}: {}", backend_, p, value.empty() ? "" : " = " + value, std::strerror(err));
    if (code == Errc::kPermissionDenied) msg += " (" + fix_ + ")";
    return make_error(code, msg);
  }
  std::string backend_, root_, subdir_, fix_;
};

Result<long> read_long(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  auto v = parse_i64(trim(*text));
  if (!v) return make_error(Errc::kParse, fmt::format("{}: \"{}\" is not a number", path, std::string(trim(*text))));
  return static_cast<long>(*v);
}

Status writable(const std::string& path) {
  if (::access(path.c_str(), W_OK) == 0) return {};
  const int err = errno;
  if (err == ENOENT) return make_error(Errc::kNotFound, fmt::format("{} does not exist", path));
  return make_error(Errc::kPermissionDenied,
                    fmt::format("{} is not writable: {} (run as root, or with CAP_SYS_ADMIN, or give write access "
                                "to the file)",
                                path, std::strerror(err)));
}

}  // namespace

std::unique_ptr<SettingWriter> cpufreq_writer(std::string root) {
  return std::make_unique<SysfsWriter>("cpufreq", std::move(root), "cpufreq",
                                       "run as root, or give write access to the cpufreq sysfs files");
}

std::unique_ptr<SettingWriter> powercap_writer(std::string root) {
  return std::make_unique<SysfsWriter>("powercap", std::move(root), "",
                                       "run as root, or give write access to the powercap sysfs files");
}

Result<std::vector<std::string>> cpufreq_cpus(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 4 || name.rfind("cpu", 0) != 0 ||
        !std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    if (std::filesystem::exists(e.path() / "cpufreq" / "scaling_max_freq", ec)) out.push_back(name);
  }
  if (out.empty())
    return make_error(Errc::kNotFound, fmt::format("no CPU under {} has cpufreq (no cpufreq driver here: a VM or a "
                                                   "container without /sys; give --cpufreq-root for another tree)",
                                                   root));
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::stoul(a.substr(3)) < std::stoul(b.substr(3));
  });
  return out;
}

Status check_cpu_max_freq(const std::string& root, long khz) {
  auto cpus = cpufreq_cpus(root);
  if (!cpus) return cpus.error();
  for (const auto& cpu : *cpus) {
    const std::string dir = root + "/" + cpu + "/cpufreq/";
    auto lo = read_long(dir + "cpuinfo_min_freq");
    if (!lo) return lo.error();
    auto hi = read_long(dir + "cpuinfo_max_freq");
    if (!hi) return hi.error();
    if (khz < *lo || khz > *hi)
      return make_error(Errc::kInvalidArgument, fmt::format("cpu_max_freq_khz {}: {} runs from {} to {} kHz "
                                                            "(cpuinfo_min_freq, cpuinfo_max_freq)",
                                                            khz, cpu, *lo, *hi));
    if (auto st = writable(dir + "scaling_max_freq"); !st) return st;
  }
  return {};
}

Status check_cpu_governor(const std::string& root, const std::string& governor) {
  auto cpus = cpufreq_cpus(root);
  if (!cpus) return cpus.error();
  for (const auto& cpu : *cpus) {
    const std::string dir = root + "/" + cpu + "/cpufreq/";
    auto list = read_text_file(dir + "scaling_available_governors");
    if (!list) return list.error();
    bool found = false;
    for (std::size_t p = 0; p < list->size();) {
      const auto q = list->find_first_of(" \t\n", p);
      if (list->substr(p, q == std::string::npos ? std::string::npos : q - p) == governor) found = true;
      if (q == std::string::npos) break;
      p = q + 1;
    }
    if (!found)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("cpu_governor \"{}\": {} offers {}", governor, cpu, std::string(trim(*list))));
    if (auto st = writable(dir + "scaling_governor"); !st) return st;
  }
  return {};
}

std::string SettingsJournal::default_path() {
  return ::geteuid() == 0 ? "/run/jouleperf/settings.journal" : "/tmp/jouleperf-settings.journal";
}

Result<SettingsJournal> SettingsJournal::open(const std::string& path) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  auto text = read_text_file(path);
  if (!text) {
    if (text.error().code == Errc::kNotFound) return SettingsJournal(path, {}, 0);
    return text.error();
  }
  std::vector<DeviceSetting> pending;
  long pid = 0;
  try {
    const auto j = nlohmann::json::parse(*text);
    if (j.value("format", "") != kFormat) throw std::runtime_error("not a jouleperf settings journal");
    pid = j.value("pid", 0L);
    for (const auto& s : j.at("settings"))
      pending.push_back(
          {s.at("backend").get<std::string>(), s.at("target").get<std::string>(), s.at("original").get<std::string>()});
  } catch (const std::exception& e) {
    return make_error(Errc::kParse, fmt::format("settings journal {}: {} (it lists settings a jouleperf changed; "
                                                "restore them by hand and remove the file)",
                                                path, e.what()));
  }
  return SettingsJournal(path, std::move(pending), pid);
}

bool SettingsJournal::writer_alive() const {
  if (writer_pid_ <= 0 || writer_pid_ == static_cast<long>(::getpid())) return false;
  return ::kill(static_cast<pid_t>(writer_pid_), 0) == 0 || errno == EPERM;
}

Status SettingsJournal::save() const {
  if (pending_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    if (ec) return make_error(Errc::kIo, fmt::format("settings journal {}: cannot remove: {}", path_, ec.message()));
    return {};
  }
  nlohmann::json settings = nlohmann::json::array();
  for (const auto& s : pending_)
    settings.push_back({{"backend", s.backend}, {"target", s.target}, {"original", s.original}});
  const nlohmann::json j{{"format", kFormat}, {"pid", ::getpid()}, {"settings", settings}};
  return write_file_atomic(path_, j.dump(2) + "\n");
}

Status SettingsJournal::change(SettingWriter& writer, const std::string& target, const std::string& value) {
  const bool known = std::any_of(pending_.begin(), pending_.end(), [&](const DeviceSetting& s) {
    return s.backend == writer.backend() && s.target == target;
  });
  if (!known) {
    auto original = writer.read(target);
    if (!original) return original.error();
    pending_.push_back({writer.backend(), target, *original});
    if (auto st = save(); !st) {
      pending_.pop_back();
      return st;
    }
  }
  return writer.write(target, value);
}

Status SettingsJournal::restore(const std::vector<SettingWriter*>& writers) {
  std::string errors;
  for (std::size_t i = pending_.size(); i-- > 0;) {
    const DeviceSetting s = pending_[i];
    auto it =
        std::find_if(writers.begin(), writers.end(), [&](SettingWriter* w) { return w && w->backend() == s.backend; });
    Status st = it == writers.end() ? make_error(Errc::kUnsupported, fmt::format("no {} writer here", s.backend))
                                    : (*it)->write(s.target, s.original);
    if (!st) {
      errors += fmt::format("{}{} {} = {}: {}", errors.empty() ? "" : "; ", s.backend, s.target, s.original,
                            st.error().message);
      continue;
    }
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    if (auto saved = save(); !saved) return saved;
  }
  if (!errors.empty())
    return make_error(Errc::kIo, fmt::format("settings journal {}: not restored: {} (still pending; fix and run "
                                             "`jouleperf restore`)",
                                             path_, errors));
  return {};
}

}  // namespace jouleperf
