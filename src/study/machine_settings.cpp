#include "jouleperf/study/machine_settings.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

#include "jouleperf/core/text.hpp"
#include "jouleperf/sensor/nvml_settings.hpp"

namespace jouleperf::study {

namespace {

constexpr const char* kRaplZone = "intel-rapl:0";
constexpr const char* kRaplLimit = "intel-rapl:0/constraint_0_power_limit_uw";

Error bad(const Config& c, const std::string& what) {
  return make_error(Errc::kInvalidArgument, fmt::format("config \"{}\": {}", c.name, what));
}

Status check_rapl(const std::string& root, double watts) {
  const std::string dir = root + "/" + kRaplZone + "/";
  auto max = read_text_file(dir + "constraint_0_max_power_uw");
  if (!max) {
    auto limit = read_text_file(dir + "constraint_0_power_limit_uw");
    if (!limit)
      return make_error(Errc::kNotFound,
                        fmt::format("cpu_power_limit_w: no RAPL package zone {} under {} (no powercap here; give "
                                    "--powercap-root for another tree)",
                                    kRaplZone, root));
  } else if (auto m = parse_double(trim(*max)); m && watts * 1e6 > *m) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("cpu_power_limit_w {:g}: {} accepts at most {:g} W", watts, kRaplZone, *m / 1e6));
  }
  if (::access((dir + "constraint_0_power_limit_uw").c_str(), W_OK) != 0)
    return make_error(Errc::kPermissionDenied,
                      fmt::format("cpu_power_limit_w: {}constraint_0_power_limit_uw is not writable (run as root or "
                                  "with CAP_SYS_ADMIN)",
                                  dir));
  return {};
}

}  // namespace

const std::vector<std::string_view>& machine_setting_keys() {
  static const std::vector<std::string_view> keys{"cpu_max_freq_khz", "cpu_governor", "cpu_power_limit_w",
                                                  "gpu_power_limit_w", "gpu_locked_clocks_mhz"};
  return keys;
}

Result<MachineSettingsSpec> machine_settings_of(const Config& c) {
  MachineSettingsSpec s;
  if (c.engine == "sim") return s;  // the simulator's own settings (clocks, caps), nothing on this machine
  if (auto v = c.setting("cpu_max_freq_khz")) {
    auto n = parse_u64(*v);
    if (!n || *n == 0)
      return bad(c, fmt::format("setting cpu_max_freq_khz: \"{}\" is not a positive whole number", *v));
    s.cpu_max_freq_khz = static_cast<long>(*n);
  }
  if (auto v = c.setting("cpu_governor")) {
    if (v->empty()) return bad(c, "setting cpu_governor is empty");
    s.cpu_governor = *v;
  }
  if (auto v = c.setting("cpu_power_limit_w")) {
    auto w = parse_double(*v);
    if (!w || !(*w > 0) || !std::isfinite(*w)) return bad(c, fmt::format("setting cpu_power_limit_w: \"{}\"", *v));
    s.cpu_power_limit_w = *w;
  }
  if (auto v = c.setting("gpu_power_limit_w")) {
    auto w = parse_double(*v);
    if (!w || !(*w > 0) || !std::isfinite(*w)) return bad(c, fmt::format("setting gpu_power_limit_w: \"{}\"", *v));
    s.gpu_power_limit_w = *w;
  }
  if (auto v = c.setting("gpu_locked_clocks_mhz")) {
    auto n = parse_u64(*v);
    if (!n || *n == 0 || *n > 100000)
      return bad(c, fmt::format("setting gpu_locked_clocks_mhz: \"{}\" is not a clock in MHz", *v));
    s.gpu_locked_clocks_mhz = static_cast<unsigned>(*n);
  }
  return s;
}

MachineSettings::MachineSettings(SettingsJournal j, Roots roots)
    : journal_(std::move(j)),
      roots_(std::move(roots)),
      cpufreq_(cpufreq_writer(roots_.cpufreq)),
      powercap_(powercap_writer(roots_.powercap)),
      nvml_writer_(nvml_writer(roots_.nvml_library)) {}

Result<std::shared_ptr<const NvmlLibrary>> MachineSettings::nvml() {
  if (!nvml_) {
    auto lib = NvmlLibrary::open(roots_.nvml_library);
    if (!lib) return lib.error();
    nvml_ = std::move(*lib);
  }
  return nvml_;
}

Result<MachineSettings> MachineSettings::open(const std::string& journal, Roots roots) {
  auto j = SettingsJournal::open(journal);
  if (!j) return j.error();
  return MachineSettings(std::move(*j), std::move(roots));
}

Status MachineSettings::check_gpus(const MachineSettingsSpec& s) {
  if (!s.gpu()) return {};
  if (roots_.gpu_uuids.empty())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: the sweep measures no GPU, so there is none to set (measure with --sensor nvml: "
                                  "the GPUs a sweep measures are the ones it sets)",
                                  s.gpu_power_limit_w ? "gpu_power_limit_w" : "gpu_locked_clocks_mhz"));
  auto lib = nvml();
  if (!lib) return lib.error();
  for (const auto& uuid : roots_.gpu_uuids) {
    if (s.gpu_power_limit_w)
      if (auto st = check_gpu_power_limit(**lib, uuid, *s.gpu_power_limit_w); !st) return st;
    if (s.gpu_locked_clocks_mhz)
      if (auto st = check_gpu_locked_clock(**lib, uuid, *s.gpu_locked_clocks_mhz); !st) return st;
  }
  return {};
}

Status MachineSettings::check(const Study& study) {
  for (const auto& c : study.configs) {
    auto s = machine_settings_of(c);
    if (!s) return s.error();
    Status st;
    if (s->cpu_max_freq_khz) st = check_cpu_max_freq(roots_.cpufreq, *s->cpu_max_freq_khz);
    if (st && s->cpu_governor) st = check_cpu_governor(roots_.cpufreq, *s->cpu_governor);
    if (st && s->cpu_power_limit_w) st = check_rapl(roots_.powercap, *s->cpu_power_limit_w);
    if (st) st = check_gpus(*s);
    if (!st) return make_error(st.error().code, fmt::format("config \"{}\": {}", c.name, st.error().message));
  }
  return {};
}

Result<nlohmann::json> MachineSettings::apply(const Config& c) {
  if (auto st = restore(); !st) return st.error();
  auto s = machine_settings_of(c);
  if (!s) return s.error();
  nlohmann::json in_force = nlohmann::json::object();
  if (!s->any()) return in_force;
  std::vector<std::string> cpus;
  if (s->cpu_max_freq_khz || s->cpu_governor) {
    auto list = cpufreq_cpus(roots_.cpufreq);
    if (!list) return list.error();
    cpus = std::move(*list);
  }
  auto set = [&](SettingWriter& w, const std::string& target, const std::string& value) -> Status {
    if (auto st = journal_.change(w, target, value); !st) return st;
    auto back = w.in_force(target);  // what the machine took, not what was asked
    if (!back) return back.error();
    in_force[w.backend() + ":" + target] = *back;
    return {};
  };
  for (const auto& cpu : cpus) {
    if (s->cpu_governor)
      if (auto st = set(*cpufreq_, cpu + "/scaling_governor", *s->cpu_governor); !st) return st.error();
    if (s->cpu_max_freq_khz)
      if (auto st = set(*cpufreq_, cpu + "/scaling_max_freq", std::to_string(*s->cpu_max_freq_khz)); !st)
        return st.error();
  }
  if (s->cpu_power_limit_w) {
    const auto uw = static_cast<long long>(std::llround(*s->cpu_power_limit_w * 1e6));
    if (auto st = set(*powercap_, kRaplLimit, std::to_string(uw)); !st) return st.error();
  }
  for (const auto& uuid : s->gpu() ? roots_.gpu_uuids : std::vector<std::string>{}) {
    if (s->gpu_power_limit_w) {
      const auto mw = static_cast<long long>(std::llround(*s->gpu_power_limit_w * 1000.0));
      if (auto st = set(*nvml_writer_, uuid + "/power_limit_mw", std::to_string(mw)); !st) return st.error();
    }
    if (s->gpu_locked_clocks_mhz)
      if (auto st = set(*nvml_writer_, uuid + "/locked_clocks_mhz", std::to_string(*s->gpu_locked_clocks_mhz)); !st)
        return st.error();
  }
  return in_force;
}

Status MachineSettings::restore() { return journal_.restore({cpufreq_.get(), powercap_.get(), nvml_writer_.get()}); }

}  // namespace jouleperf::study
