#include "jouleperf/sensor/device_probe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "jouleperf/core/text.hpp"

namespace jouleperf {

namespace {

class NvmlProbe final : public DeviceProbe {
 public:
  NvmlProbe(std::shared_ptr<const NvmlLibrary> lib, nvml::Device dev, std::string domain)
      : lib_(std::move(lib)), dev_(dev), domain_(std::move(domain)) {}
  const std::string& domain() const override { return domain_; }
  Result<DeviceSnapshot> read() override {
    auto t = lib_->temperature_c(dev_);
    if (!t) return make_error(t.error().code, fmt::format("{}: {}", domain_, t.error().message));
    DeviceSnapshot s;
    s.temperature_c = *t;
    if (auto mw = lib_->enforced_power_limit_mw(dev_)) s.power_limit_w = *mw / 1000.0;
    if (auto mhz = lib_->sm_clock_mhz(dev_)) s.sm_clock_mhz = *mhz;
    if (auto r = lib_->throttle_reasons(dev_)) s.throttle_reasons = *r;
    return s;
  }

 private:
  std::shared_ptr<const NvmlLibrary> lib_;
  nvml::Device dev_;
  std::string domain_;
};

// A sysfs file of millidegrees C: a thermal zone's `temp`, an hwmon device's `temp1_input`.
class ThermalZoneProbe final : public DeviceProbe {
 public:
  ThermalZoneProbe(std::string temp_path, std::string domain)
      : temp_path_(std::move(temp_path)), domain_(std::move(domain)) {}
  const std::string& domain() const override { return domain_; }
  Result<DeviceSnapshot> read() override {
    auto text = read_text_file(temp_path_);
    if (!text) return make_error(text.error().code, fmt::format("{}: {}", domain_, text.error().message));
    auto milli = parse_i64(trim(*text));
    if (!milli)
      return make_error(Errc::kParse, fmt::format("{}: {}: \"{}\" is not millidegrees C", domain_, temp_path_,
                                                  std::string(trim(*text))));
    DeviceSnapshot s;
    s.temperature_c = static_cast<double>(*milli) / 1000.0;
    return s;
  }

 private:
  std::string temp_path_;
  std::string domain_;
};

// The numbered directories `prefix`N under `root` that hold `file`, by N. kIo when `root`
// exists and cannot be listed; none when it does not exist.
Result<std::vector<std::pair<long, std::filesystem::path>>> numbered_dirs(const std::string& root,
                                                                          const std::string& prefix,
                                                                          const std::string& file) {
  namespace fs = std::filesystem;
  std::vector<std::pair<long, fs::path>> out;
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    auto n = parse_i64(std::string_view(name).substr(prefix.size()));
    if (!n || !fs::exists(it->path() / file)) continue;
    out.emplace_back(*n, it->path());
  }
  if (ec) return make_error(Errc::kIo, fmt::format("cannot list {}: {}", root, ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::unique_ptr<DeviceProbe>> nvml_probe(std::shared_ptr<const NvmlLibrary> lib, const std::string& uuid,
                                                std::string domain) {
  auto dev = lib->device_by_uuid(uuid);
  if (!dev) return dev.error();
  return std::unique_ptr<DeviceProbe>(std::make_unique<NvmlProbe>(std::move(lib), *dev, std::move(domain)));
}

Result<std::vector<std::unique_ptr<DeviceProbe>>> thermal_zone_probes(const std::string& root) {
  std::vector<std::unique_ptr<DeviceProbe>> out;
  auto zones = numbered_dirs(root, "thermal_zone", "temp");
  if (!zones) return make_error(zones.error().code, "thermal zones: " + zones.error().message);
  std::map<std::string, int> seen;
  std::vector<std::string> types;
  for (const auto& [n, dir] : *zones) {
    auto type = read_text_file((dir / "type").string());
    types.push_back(type ? std::string(trim(*type)) : "zone");
    ++seen[types.back()];
  }
  for (std::size_t i = 0; i < zones->size(); ++i) {
    const auto& [n, dir] = (*zones)[i];
    const std::string domain = seen[types[i]] > 1 ? fmt::format("thermal:{}:{}", types[i], n) : "thermal:" + types[i];
    auto probe = std::make_unique<ThermalZoneProbe>((dir / "temp").string(), domain);
    if (probe->read()) out.push_back(std::move(probe));  // a zone that does not answer (ENODATA, EIO) is left out
  }
  return out;
}

bool is_cpu_hwmon(const std::string& driver_name) {
  return driver_name == "coretemp" || driver_name == "k10temp" || driver_name == "zenpower" ||
         driver_name == "cpu_thermal";
}

Result<std::vector<std::unique_ptr<DeviceProbe>>> cpu_hwmon_probes(const std::string& root) {
  std::vector<std::unique_ptr<DeviceProbe>> out;
  auto devices = numbered_dirs(root, "hwmon", "temp1_input");
  if (!devices) return make_error(devices.error().code, "hwmon: " + devices.error().message);
  for (const auto& [n, dir] : *devices) {
    auto name = read_text_file((dir / "name").string());
    if (!name || !is_cpu_hwmon(std::string(trim(*name)))) continue;
    auto probe = std::make_unique<ThermalZoneProbe>((dir / "temp1_input").string(),
                                                    fmt::format("hwmon:{}:{}", std::string(trim(*name)), n));
    if (probe->read()) out.push_back(std::move(probe));  // one that does not answer is left out
  }
  return out;
}

}  // namespace jouleperf
