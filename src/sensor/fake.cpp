#include "jouleperf/sensor/fake.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
  const double lo_t = a.value(), hi_t = b.value();
  double e = 0.0;
  // Clips the piece [t0, t1] (linear from p0 to p1) to [a, b] and adds its exact area.
  // Zero-length pieces are steps and add nothing; no evaluation just inside a step's
  // edge, so the result is exact at any clock origin.
  auto add_piece = [&](double t0, double p0, double t1, double p1) {
    const double lo = std::max(t0, lo_t), hi = std::min(t1, hi_t);
    if (!(hi > lo)) return;
    const double slope = t1 > t0 && std::isfinite(t1 - t0) ? (p1 - p0) / (t1 - t0) : 0.0;
    const double pl = std::isfinite(t0) ? p0 + slope * (lo - t0) : p0;
    const double ph = std::isfinite(t0) ? p0 + slope * (hi - t0) : p1;
    e += 0.5 * (pl + ph) * (hi - lo);
  };
  const double inf = std::numeric_limits<double>::infinity();
  add_piece(-inf, pts_.front().second, pts_.front().first, pts_.front().second);
  for (std::size_t i = 0; i + 1 < pts_.size(); ++i)
    add_piece(pts_[i].first, pts_[i].second, pts_[i + 1].first, pts_[i + 1].second);
  add_piece(pts_.back().first, pts_.back().second, inf, pts_.back().second);
  return Joules(e);
}

FakePowerSensor::FakePowerSensor(SensorInfo info, PowerProfile profile, const Clock& clock)
    : info_(std::move(info)), profile_(std::move(profile)), clock_(clock) {
  info_.caps.power = true;
}

Result<Reading> FakePowerSensor::read() {
  Reading r;
  r.t = clock_.now();
  r.power = profile_.power(r.t);
  return r;
}

namespace {
CounterOptions fake_counter_options(const SensorInfo& info, std::uint64_t range_raw, double joules_per_raw) {
  CounterOptions o;
  o.range_raw = range_raw;
  o.joules_per_raw = joules_per_raw;
  o.on_decrease = range_raw > 0 ? CounterDecrease::kWrap : CounterDecrease::kReset;
  o.max_power_w = info.caps.max_power_w;
  o.slack_s = info.caps.update_interval_s;
  return o;
}
}  // namespace

FakeCounterSensor::FakeCounterSensor(SensorInfo info, std::vector<Step> script, std::uint64_t range_raw,
                                     double joules_per_raw, const Clock& clock)
    : info_(std::move(info)),
      script_(std::move(script)),
      unwrap_(fake_counter_options(info_, range_raw, joules_per_raw)),
      clock_(clock) {
  info_.caps.energy_counter = true;
}

Result<Reading> FakeCounterSensor::read() {
  if (script_.empty()) return make_error(Errc::kInternal, "fake counter has an empty script");
  const Step& s = script_[std::min(next_, script_.size() - 1)];
  ++next_;
  if (s.error) return *s.error;
  if (!s.raw) return make_error(Errc::kInternal, "fake counter step has neither a value nor an error");
  Reading r;
  r.t = clock_.now();
  const CounterUpdate u = unwrap_.update(*s.raw, r.t);
  if (u.rejected) {
    r.rejected = *u.rejected;
    return r;
  }
  r.energy = u.energy;
  r.rebased = u.rebased;
  r.gap_s = u.gap_s;
  return r;
}

}  // namespace jouleperf
