#include "jouleperf/sensor/counter.hpp"

#include <algorithm>
#include <cstdio>

namespace jouleperf {
namespace {

std::string fmt_g(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

CounterUnwrapper::CounterUnwrapper(std::uint64_t range_raw, double joules_per_raw) {
  opts_.range_raw = range_raw;
  opts_.joules_per_raw = joules_per_raw;
  opts_.on_decrease = range_raw > 0 ? CounterDecrease::kWrap : CounterDecrease::kReset;
}

Joules CounterUnwrapper::energy() const {
  return Joules(static_cast<double>(total_raw_ * static_cast<long double>(opts_.joules_per_raw)));
}

CounterUnwrapper::Verdict CounterUnwrapper::step(const Point& from, std::uint64_t raw, double t_s) const {
  Verdict v;
  v.raw = raw;
  v.t_s = t_s;
  const double dt = std::max(0.0, t_s - from.t_s);
  const double window_s = dt + opts_.slack_s;
  const double scale = opts_.joules_per_raw;
  // The mean power a candidate step implies, and whether it is within the bound.
  const auto within = [&](long double delta_raw) {
    if (!(opts_.max_power_w > 0)) return true;
    return static_cast<double>(delta_raw) * scale <= opts_.max_power_w * window_s;
  };
  const auto implied = [&](long double delta_raw) {
    const double j = static_cast<double>(delta_raw) * scale;
    return fmt_g(j) + " J in " + fmt_g(dt) + " s (" + (window_s > 0 ? fmt_g(j / window_s) + " W" : "unbounded W") +
           " allowing " + fmt_g(opts_.slack_s) + " s for the update interval), above the " + fmt_g(opts_.max_power_w) +
           " W bound";
  };
  const auto reject = [&](std::string why) {
    v.kind = Verdict::Kind::kRejected;
    v.reason = std::move(why);
    return v;
  };

  if (raw >= from.raw) {
    const long double d = static_cast<long double>(raw - from.raw);
    if (!within(d))
      return reject("counter rose from " + std::to_string(from.raw) + " to " + std::to_string(raw) + ": " + implied(d));
    v.kind = Verdict::Kind::kAdvance;
    v.delta_raw = d;
    return v;
  }
  const std::string down = "counter went down from " + std::to_string(from.raw) + " to " + std::to_string(raw);
  if (opts_.on_decrease == CounterDecrease::kWrap) {
    if (opts_.range_raw == 0) return reject(down + " and " + opts_.range_name + " is 0: no wrap is possible");
    if (from.raw > opts_.range_raw)
      return reject(down + ", but the previous value is above " + opts_.range_name + " " +
                    std::to_string(opts_.range_raw) + ": not a wrap");
    const long double d = static_cast<long double>(opts_.range_raw - from.raw) + static_cast<long double>(raw);
    if (!within(d))
      return reject(down + "; a wrap at " + opts_.range_name + " " + std::to_string(opts_.range_raw) + " would mean " +
                    implied(d));
    v.kind = Verdict::Kind::kWrap;
    v.delta_raw = d;
    v.wrapped = true;
    return v;
  }
  const long double d = static_cast<long double>(raw);  // counting restarted at zero
  if (!within(d)) return reject(down + "; a reset to zero would mean " + implied(d));
  v.kind = Verdict::Kind::kWrap;
  v.delta_raw = d;
  v.wrapped = true;
  return v;
}

CounterUnwrapper::Verdict CounterUnwrapper::judge(std::uint64_t raw, Seconds t) const {
  if (!last_) {
    Verdict v;
    v.kind = Verdict::Kind::kFirst;
    v.raw = raw;
    v.t_s = t.value();
    return v;
  }
  Verdict v = step(*last_, raw, t.value());
  if (v.kind != Verdict::Kind::kRejected || !pending_) return v;
  // Implausible against the last good value: is the counter continuing from the rejected one?
  Verdict from_pending = step(*pending_, raw, t.value());
  if (from_pending.kind == Verdict::Kind::kRejected) return v;
  from_pending.kind = Verdict::Kind::kRebase;
  from_pending.gap_s = std::max(0.0, pending_->t_s - last_->t_s);
  return from_pending;
}

CounterUpdate CounterUnwrapper::apply(const Verdict& v) {
  CounterUpdate u;
  switch (v.kind) {
    case Verdict::Kind::kFirst:
      last_ = Point{v.raw, v.t_s};
      pending_.reset();
      break;
    case Verdict::Kind::kAdvance:
    case Verdict::Kind::kWrap:
    case Verdict::Kind::kRebase:
      total_raw_ += v.delta_raw;
      last_ = Point{v.raw, v.t_s};
      pending_.reset();
      if (v.wrapped) ++wraps_;
      if (v.kind == Verdict::Kind::kRebase) {
        ++rebases_;
        u.rebased = true;
        u.gap_s = v.gap_s;
      }
      u.wrapped = v.wrapped;
      break;
    case Verdict::Kind::kRejected:
      pending_ = Point{v.raw, v.t_s};
      ++rejected_;
      u.rejected = v.reason;
      break;
  }
  u.energy = energy();
  return u;
}

}  // namespace jouleperf
