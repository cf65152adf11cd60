#include "jouleperf/sensor/fake.hpp"

#include <algorithm>

namespace jouleperf {

PowerProfile& PowerProfile::point(Seconds t, Watts p) {
  pts_.emplace_back(t.value(), p.value());
  return *this;
}

PowerProfile& PowerProfile::step(Seconds t, Watts p) {
  const double prev = pts_.empty() ? p.value() : pts_.back().second;
  pts_.emplace_back(t.value(), prev);
  pts_.emplace_back(t.value(), p.value());
  return *this;
}

Watts PowerProfile::power(Seconds ts) const {
  if (pts_.empty()) return Watts(0.0);
  const double t = ts.value();
  if (t <= pts_.front().first) return Watts(pts_.front().second);
  if (t >= pts_.back().first) return Watts(pts_.back().second);
  // Last point with time <= t, so a step at exactly t reports the new level.
  auto it = std::upper_bound(pts_.begin(), pts_.end(), t, [](double v, const auto& p) { return v < p.first; });
  const auto& b = *it;
  const auto& a = *(it - 1);
  if (b.first == a.first) return Watts(b.second);
  return Watts(a.second + (b.second - a.second) * (t - a.first) / (b.first - a.first));
}

Joules PowerProfile::energy(Seconds a, Seconds b) const {
  if (pts_.empty() || b <= a) return Joules(0.0);
  // Integrate piecewise: breakpoints inside (a, b) plus the ends.
  std::vector<double> ts{a.value()};
  for (const auto& p : pts_)
    if (p.first > a.value() && p.first < b.value()) ts.push_back(p.first);
  ts.push_back(b.value());
  double e = 0.0;
  for (size_t i = 0; i + 1 < ts.size(); ++i) {
    const double t0 = ts[i], t1 = ts[i + 1];
    if (t1 <= t0) continue;
    // Within a segment P is linear; evaluate just inside both ends to skip step jumps.
    const double eps = (t1 - t0) * 1e-12;
    const double p0 = power(Seconds(t0 + eps)).value();
    const double p1 = power(Seconds(t1 - eps)).value();
    e += 0.5 * (p0 + p1) * (t1 - t0);
  }
  return Joules(e);
}

FakePowerSensor::FakePowerSensor(SensorInfo info, PowerProfile profile, const Clock& clock)
    : info_(std::move(info)), profile_(std::move(profile)), clock_(clock) {
  info_.caps.power = true;
}

Result<Reading> FakePowerSensor::read() {
  const Seconds t = clock_.now();
  return Reading{t, std::nullopt, profile_.power(t)};
}

FakeCounterSensor::FakeCounterSensor(SensorInfo info, std::vector<Step> script, std::uint64_t range_raw,
                                     double joules_per_raw, const Clock& clock)
    : info_(std::move(info)), script_(std::move(script)), unwrap_(range_raw, joules_per_raw), clock_(clock) {
  info_.caps.energy_counter = true;
}

Result<Reading> FakeCounterSensor::read() {
  if (script_.empty()) return make_error(Errc::kInternal, "fake counter has an empty script");
  const Step& s = script_[std::min(next_, script_.size() - 1)];
  ++next_;
  if (s.error) return *s.error;
  if (!s.raw) return make_error(Errc::kInternal, "fake counter step has neither a value nor an error");
  return Reading{clock_.now(), unwrap_.update(*s.raw), std::nullopt};
}

}  // namespace jouleperf
