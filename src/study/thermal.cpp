#include "jouleperf/study/thermal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "jouleperf/sensor/nvml_library.hpp"
#include "jouleperf/study/online.hpp"

namespace jouleperf::study {

Status validate(const ThermalOptions& o) {
  auto positive = [](const char* name, double v) -> Status {
    if (!(v > 0.0) || !std::isfinite(v))
      return make_error(Errc::kInvalidArgument, fmt::format("{} must be a positive number of seconds", name));
    return {};
  };
  if (o.cooldown_s)
    if (auto st = positive("--cooldown-s", *o.cooldown_s); !st) return st;
  for (auto [name, v] :
       {std::pair{"--cooldown-max-s", o.cooldown_max_s}, std::pair{"--steady-window", o.steady_window_s},
        std::pair{"--warmup-max-s", o.warmup_max_s}, std::pair{"--thermal-poll", o.poll_s}})
    if (auto st = positive(name, v); !st) return st;
  if (!(o.steady_slope_c_per_min > 0.0))
    return make_error(Errc::kInvalidArgument, "--steady-slope must be a positive number of degrees C per minute");
  if (o.warm_to_steady && o.steady_window_s > o.warmup_max_s)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--steady-window {:g} s is longer than --warmup-max-s {:g} s: no warm-up could "
                                  "ever be found steady",
                                  o.steady_window_s, o.warmup_max_s));
  return {};
}

namespace {

// The samples the gates go by: the GPUs' when any GPU is watched (a CPU zone or an NVMe
// drive that never cools to a GPU's target must not hold the gate), else every device's.
std::vector<DeviceSample> gating(const DeviceWatch& watch, std::vector<DeviceSample> samples) {
  std::vector<bool> gpu(watch.size());
  bool any_gpu = false;
  for (std::size_t i = 0; i < watch.size(); ++i) {
    gpu[i] = watch.domain(i).rfind("gpu:", 0) == 0;
    any_gpu = any_gpu || gpu[i];
  }
  if (!any_gpu) return samples;
  std::erase_if(samples, [&](const DeviceSample& s) { return !gpu[s.device]; });
  return samples;
}

}  // namespace

Result<record::CoolDown> cool_down(DeviceWatch& watch, const ThermalOptions& o, const Clock& clock,
                                   const std::atomic<bool>* stop) {
  record::CoolDown c;
  c.target_c = o.cooldown_temp_c;
  const double t0 = clock.now().value();
  const double longest = o.cooldown_s.value_or(o.cooldown_max_s);
  const auto stopped = [stop] { return stop != nullptr && stop->load(); };
  for (;;) {
    auto now = watch.read_now();
    if (!now) return make_error(now.error().code, "cool-down: " + now.error().message);
    c.temp_c = DeviceWatch::hottest(gating(watch, std::move(*now)));
    const double waited = clock.now().value() - t0;
    c.waited_s = waited;
    if (c.target_c) {
      if (c.temp_c && *c.temp_c <= *c.target_c) return c;
      if (!c.temp_c) {  // no device gives a temperature: nothing to wait for
        c.reached = false;
        return c;
      }
    }
    if (waited >= longest || stopped()) {
      c.reached = !c.target_c && !stopped();
      return c;
    }
    // Poll-sized steps, so a SIGINT is seen within one even during a fixed wait.
    clock.sleep_until(Seconds(clock.now().value() + std::min(o.poll_s, longest - waited)));
  }
}

std::optional<double> steepest_slope_c_per_min(const std::vector<DeviceSample>& samples) {
  std::map<std::size_t, std::vector<std::pair<double, double>>> by_device;
  for (const auto& s : samples)
    if (s.snapshot.temperature_c) by_device[s.device].emplace_back(s.t_s, *s.snapshot.temperature_c);
  std::optional<double> steepest;
  for (const auto& [device, pts] : by_device) {
    double mt = 0, my = 0;
    for (const auto& [t, y] : pts) {
      mt += t;
      my += y;
    }
    mt /= static_cast<double>(pts.size());
    my /= static_cast<double>(pts.size());
    double sxy = 0, sxx = 0;
    for (const auto& [t, y] : pts) {
      sxy += (t - mt) * (y - my);
      sxx += (t - mt) * (t - mt);
    }
    if (pts.size() < 2 || sxx <= 0) return std::nullopt;  // a device without a slope: not known steady
    const double slope = sxy / sxx * 60.0;
    if (!steepest || std::abs(slope) > std::abs(*steepest)) steepest = slope;
  }
  return steepest;
}

nlohmann::json warm_until_steady(DeviceWatch& watch, const ThermalOptions& o, const Clock& clock,
                                 const std::function<Status()>& batch, const std::atomic<bool>* stop) {
  const double t0 = clock.now().value();
  nlohmann::json out = {
      {"window_s", o.steady_window_s}, {"threshold_c_per_min", o.steady_slope_c_per_min}, {"max_s", o.warmup_max_s}};
  std::size_t batches = 0;
  double slope = 0.0;
  bool steady = false;
  for (;;) {
    if (stop != nullptr && stop->load()) break;
    if (auto st = batch(); !st) {
      out["stopped"] = st.error().to_string();
      break;
    }
    ++batches;
    auto now = watch.read_now();  // a read at the batch's end, whatever the poll interval
    const double t = clock.now().value();
    if (now) {
      const auto hot = DeviceWatch::hottest(gating(watch, std::move(*now)));
      out["temp_c"] = hot ? nlohmann::json(*hot) : nlohmann::json();
    }
    if (t - t0 >= o.steady_window_s) {
      const auto s = steepest_slope_c_per_min(gating(watch, watch.samples(t - o.steady_window_s, t)));
      slope = s.value_or(slope);
      if (s && std::abs(*s) < o.steady_slope_c_per_min) {
        steady = true;
        break;
      }
    }
    if (t - t0 >= o.warmup_max_s) break;
  }
  out["steady"] = steady;
  out["batches"] = batches;
  out["ran_s"] = clock.now().value() - t0;
  out["slope_c_per_min"] = slope;
  return out;
}

record::DeviceThermal to_record(const DeviceWindow& w) {
  record::DeviceThermal d;
  d.domain = w.domain;
  d.temp_start_c = w.temp_start_c;
  d.temp_end_c = w.temp_end_c;
  d.temp_max_c = w.temp_max_c;
  d.power_limit_w = w.power_limit_w;
  d.sm_clock_mhz = w.sm_clock_mhz;
  if (w.throttle_known) d.throttle_reasons = nvml::throttle_reason_names(w.throttle_reasons);
  return d;
}

Result<std::unique_ptr<DeviceWatch>> watch_devices(const Sampler* sampler, const std::string& nvml_library,
                                                   const std::string& thermal_root, const std::string& hwmon_root,
                                                   const ThermalOptions& o, const Clock& clock) {
  std::vector<std::unique_ptr<DeviceProbe>> probes;
  std::shared_ptr<const NvmlLibrary> lib;
  for (std::size_t i = 0; sampler != nullptr && i < sampler->size(); ++i) {
    const SensorInfo& info = sampler->info(i);
    if (info.name != "nvml" || info.device_uuid.empty()) continue;
    if (!lib) {
      auto opened = NvmlLibrary::open(nvml_library);
      if (!opened) return opened.error();
      lib = std::move(*opened);
    }
    auto probe = nvml_probe(lib, info.device_uuid, info.domain);
    if (!probe) return probe.error();
    probes.push_back(std::move(*probe));
  }
  auto zones = thermal_zone_probes(thermal_root);
  if (!zones) return zones.error();
  for (auto& z : *zones) probes.push_back(std::move(z));
  auto hwmon = cpu_hwmon_probes(hwmon_root);
  if (!hwmon) return hwmon.error();
  for (auto& h : *hwmon) probes.push_back(std::move(h));
  if (probes.empty()) {
    if (o.gates())
      return make_error(Errc::kInvalidArgument,
                        fmt::format("the thermal protocol needs a temperature, and no device gives one here (no GPU "
                                    "measured through NVML, no thermal zone under {}, no CPU hwmon device under {}): "
                                    "measure with --sensor nvml, or give --thermal-root or --hwmon-root",
                                    thermal_root, hwmon_root));
    return std::unique_ptr<DeviceWatch>();
  }
  return DeviceWatch::start(std::move(probes), clock, o.poll_s);
}

nlohmann::json sweep_power_trace(Sampler& sampler, const DeviceWatch& watch, double t0_s, double t1_s,
                                 std::size_t max_points) {
  nlohmann::json trace = power_series(sampler, t0_s, t1_s, max_points);
  // Each device thinned on its own to at most max_points.
  std::vector<std::vector<DeviceSample>> per_device(watch.size());
  for (auto& smp : watch.samples(t0_s, t1_s))
    if (smp.snapshot.temperature_c) per_device[smp.device].push_back(smp);
  nlohmann::json temps = nlohmann::json::array();
  for (const auto& series : per_device) {
    const std::size_t stride =
        std::max<std::size_t>(1, (series.size() + max_points - 1) / std::max<std::size_t>(max_points, 1));
    for (std::size_t k = 0; k < series.size(); k += stride)
      temps.push_back({{"t_s", series[k].t_s - t0_s},
                       {"device", watch.domain(series[k].device)},
                       {"temp_c", *series[k].snapshot.temperature_c}});
  }
  trace["temperatures"] = std::move(temps);
  trace["what"] = "sweep: power and device temperatures";
  return trace;
}

}  // namespace jouleperf::study
