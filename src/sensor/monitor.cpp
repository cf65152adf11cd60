#include "jouleperf/sensor/monitor.hpp"

#include <fmt/format.h>

namespace jouleperf {

Result<std::unique_ptr<Monitor>> Monitor::open(const MonitorOptions& options, const Clock& clock) {
  const SensorRegistry fallback = options.registry == nullptr ? default_sensor_registry() : SensorRegistry{};
  const SensorRegistry& registry = options.registry == nullptr ? fallback : *options.registry;
  auto set = open_sensors(registry, options.sensors, clock);
  if (!set) return set.error();
  auto m = over(std::move(set->sensors), options.sampler, clock, options.background);
  if (!m) return m.error();
  (*m)->problems_ = std::move(set->problems);
  return m;
}

Result<std::unique_ptr<Monitor>> Monitor::over(SensorList sensors, const SamplerConfig& config, const Clock& clock,
                                               bool background) {
  if (sensors.empty()) return make_error(Errc::kInvalidArgument, "monitor: no sensor to sample");
  std::unique_ptr<Monitor> m(new Monitor());
  m->sampler_ = std::make_unique<Sampler>(std::move(sensors), config, clock);
  if (auto st = m->sampler_->start(background); !st) return st.error();
  return m;
}

Monitor::~Monitor() {
  {
    std::lock_guard lock(mutex_);
    windows_.clear();
  }
  if (sampler_) sampler_->stop();
}

Status Monitor::begin_window(const std::string& name) {
  if (name.empty()) return make_error(Errc::kInvalidArgument, "monitor: a window needs a name");
  auto meter = std::make_unique<Meter>(*sampler_);
  {
    // The name is taken (an empty slot) under the lock; the sensors are read outside it,
    // so windows on other threads do not wait for this one's reads.
    std::lock_guard lock(mutex_);
    if (windows_.count(name) != 0)
      return make_error(Errc::kInvalidArgument, fmt::format("monitor: window '{}' is already open", name));
    if (idle_) meter->set_idle(*idle_);
    windows_.emplace(name, nullptr);
  }
  const Status st = meter->start();
  std::lock_guard lock(mutex_);
  if (!st) {
    windows_.erase(name);
    return st;
  }
  windows_[name] = std::move(meter);
  return {};
}

Result<Measurement> Monitor::end_window(const std::string& name) {
  std::unique_ptr<Meter> meter;
  {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(name);
    if (it == windows_.end()) return make_error(Errc::kNotFound, fmt::format("monitor: no open window '{}'", name));
    if (!it->second)
      return make_error(Errc::kInvalidArgument, fmt::format("monitor: window '{}' is still beginning", name));
    meter = std::move(it->second);
    windows_.erase(it);
  }
  return meter->stop();  // reads the sensors outside the lock
}

std::vector<std::string> Monitor::open_windows() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, meter] : windows_) out.push_back(name);
  return out;
}

Status Monitor::measure_idle(Seconds duration) {
  auto idle = jouleperf::measure_idle(*sampler_, duration);
  if (!idle) return idle.error();
  set_idle(std::move(*idle));
  return {};
}

void Monitor::set_idle(IdleBaseline idle) {
  std::lock_guard lock(mutex_);
  idle_ = std::move(idle);
}

bool Monitor::estimated_only() const {
  for (std::size_t i = 0; i < sampler_->size(); ++i)
    if (!sampler_->info(i).caps.estimated) return false;
  return true;
}

std::string Monitor::sensors() const {
  std::string out;
  for (std::size_t i = 0; i < sampler_->size(); ++i)
    out += (out.empty() ? "" : ", ") + sampler_->info(i).name + " " + sampler_->info(i).domain;
  return out;
}

}  // namespace jouleperf
