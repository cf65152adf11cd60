#include "jouleperf/sensor/device_watch.hpp"

#include <algorithm>
#include <chrono>

namespace jouleperf {

DeviceWatch::DeviceWatch(std::vector<std::unique_ptr<DeviceProbe>> probes, const Clock& clock, double poll_s,
                         std::size_t keep)
    : probes_(std::move(probes)), clock_(clock), poll_s_(poll_s), keep_(keep) {}

Result<std::unique_ptr<DeviceWatch>> DeviceWatch::start(std::vector<std::unique_ptr<DeviceProbe>> probes,
                                                        const Clock& clock, double poll_s, std::size_t keep) {
  if (probes.empty()) return make_error(Errc::kInvalidArgument, "device watch: no device to watch");
  if (!(poll_s > 0.0)) return make_error(Errc::kInvalidArgument, "device watch: the poll interval must be positive");
  std::unique_ptr<DeviceWatch> w(new DeviceWatch(std::move(probes), clock, poll_s, std::max<std::size_t>(keep, 16)));
  w->thread_ = std::thread([p = w.get()] { p->loop(); });
  return w;
}

DeviceWatch::~DeviceWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeviceWatch::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    (void)read_locked();  // failures are counted and kept in last_error_
    cv_.wait_for(lock, std::chrono::duration<double>(poll_s_), [this] { return stopping_; });
  }
}

Result<std::vector<DeviceSample>> DeviceWatch::read_locked() {
  std::vector<DeviceSample> now;
  std::optional<Error> first;
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    auto s = probes_[i]->read();
    const double t = clock_.now().value();
    if (!s) {
      if (!first) first = s.error();
      last_error_ = s.error().to_string();
      ++failed_reads_;
      continue;
    }
    now.push_back({t, i, *s});
  }
  samples_.insert(samples_.end(), now.begin(), now.end());
  const std::size_t cap = keep_ * probes_.size();
  if (samples_.size() > cap + cap / 4)  // trim in steps, not on every read
    samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(samples_.size() - cap));
  if (now.empty() && first) return *first;
  return now;
}

Result<std::vector<DeviceSample>> DeviceWatch::read_now() {
  std::lock_guard<std::mutex> lock(mu_);
  return read_locked();
}

std::optional<double> DeviceWatch::hottest(const std::vector<DeviceSample>& samples) {
  std::optional<double> t;
  for (const auto& s : samples)
    if (s.snapshot.temperature_c && (!t || *s.snapshot.temperature_c > *t)) t = s.snapshot.temperature_c;
  return t;
}

std::vector<DeviceSample> DeviceWatch::samples(double t0_s, double t1_s) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Kept in time order (stamped under the lock on a monotonic clock): find the range, do not scan.
  const auto first = std::lower_bound(samples_.begin(), samples_.end(), t0_s,
                                      [](const DeviceSample& s, double t) { return s.t_s < t; });
  const auto last =
      std::upper_bound(first, samples_.end(), t1_s, [](double t, const DeviceSample& s) { return t < s.t_s; });
  return std::vector<DeviceSample>(first, last);
}

std::vector<DeviceWindow> DeviceWatch::window(double t0_s, double t1_s) const {
  std::vector<DeviceWindow> out(probes_.size());
  for (std::size_t i = 0; i < probes_.size(); ++i) out[i].domain = probes_[i]->domain();
  for (const auto& s : samples(t0_s, t1_s)) {
    DeviceWindow& w = out[s.device];
    const DeviceSnapshot& d = s.snapshot;
    ++w.reads;
    if (d.temperature_c) {
      if (!w.temp_start_c) w.temp_start_c = d.temperature_c;
      w.temp_end_c = d.temperature_c;
      w.temp_max_c = std::max(w.temp_max_c.value_or(*d.temperature_c), *d.temperature_c);
    }
    if (d.power_limit_w) w.power_limit_w = d.power_limit_w;
    if (d.sm_clock_mhz) w.sm_clock_mhz = d.sm_clock_mhz;
    if (d.throttle_reasons) {
      w.throttle_reasons |= *d.throttle_reasons;
      w.throttle_known = true;
    }
  }
  return out;
}

std::size_t DeviceWatch::failed_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_reads_;
}

std::string DeviceWatch::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

}  // namespace jouleperf
