#include "jouleperf/sensor/meter.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace jouleperf {

Status Meter::start(const std::string& phase) {
  if (running_) return make_error(Errc::kInternal, "meter started twice");
  marks_.clear();
  running_ = true;
  auto snaps = sampler_.snapshot();
  marks_.push_back({phase, sampler_.clock().now().value(), std::move(snaps)});
  return {};
}

Status Meter::mark(const std::string& phase) {
  if (!running_) return make_error(Errc::kInternal, "meter mark before start");
  auto snaps = sampler_.snapshot();
  marks_.push_back({phase, sampler_.clock().now().value(), std::move(snaps)});
  return {};
}

Result<IntervalEnergy> Meter::interval(const std::string& name, const Mark& a, const Mark& b) const {
  IntervalEnergy iv;
  iv.name = name;
  iv.start_s = a.t_s;
  iv.end_s = b.t_s;
  iv.duration_s = std::max(0.0, b.t_s - a.t_s);
  std::set<std::string> sources;
  bool all_idle_known = idle_.has_value();
  double idle_sum_w = 0.0;
  for (std::size_t i = 0; i < sampler_.size(); ++i) {
    const SensorInfo& info = sampler_.info(i);
    const SensorSnapshot& sa = a.snaps[i];
    const SensorSnapshot& sb = b.snaps[i];
    if (sa.reads_ok == 0 || sb.reads_ok == 0) {
      const std::string why = sb.last_error       ? sb.last_error->message
                              : sb.last_rejection ? "rejected as implausible: " + *sb.last_rejection
                                                  : "no reading";
      return make_error(Errc::kIo, info.name + " " + info.domain + ": no good reading in '" + name + "': " + why);
    }
    DomainEnergy d;
    d.sensor = info.name;
    d.domain = info.domain;
    d.source = sampler_.source(i);
    d.estimated = info.caps.estimated;
    d.in_total = info.caps.in_total;
    d.energy_j = (sb.energy - sa.energy).value();
    d.samples = sb.reads_ok - sa.reads_ok;
    d.failed_reads = sb.reads_failed - sa.reads_failed;
    d.stale_end = !sb.fresh;
    d.rejected_reads = sb.reads_rejected - sa.reads_rejected;
    if (d.rejected_reads > 0 && sb.last_rejection) d.rejection = *sb.last_rejection;
    d.counter_gaps = sb.counter_gaps - sa.counter_gaps;
    d.gap_s = std::max(0.0, sb.gap_s - sa.gap_s);
    d.incomplete = d.stale_end || d.counter_gaps > 0;
    iv.rejected_reads += d.rejected_reads;
    // The readings bracket [a.t, b.t]; when a closing read failed the figure covers less,
    // and a counter gap's seconds are not in it either: mean power is over what is covered.
    const double span = (sb.t - sa.t).value();
    const double covered_s = std::max(0.0, span - d.gap_s);
    d.power_w = covered_s > 0 ? d.energy_j / covered_s : 0.0;
    const double u = info.caps.update_interval_s;
    d.below_resolution = u > 0 && iv.duration_s < u;
    if (d.source == EnergySource::kPowerIntegral) {
      // Steps between samples (data-driven bound), the power's resolution, and readings
      // that lag by up to one update interval at both ends.
      d.uncertainty_j = (sb.sampling_bound - sa.sampling_bound).value() + info.caps.power_resolution_w * iv.duration_s +
                        std::abs(d.power_w) * u;
    } else {
      d.uncertainty_j = 2.0 * info.caps.resolution_j + std::abs(d.power_w) * u;
    }
    if (idle_ && i < idle_->power_w.size() && idle_->power_w[i]) {
      d.idle_power_w = *idle_->power_w[i];
      // Incomplete: idle is subtracted over the covered time only, as the energy is.
      d.above_idle_j = d.energy_j - *d.idle_power_w * (d.incomplete ? covered_s : iv.duration_s);
    } else if (d.in_total) {
      all_idle_known = false;
    }
    if (d.in_total) {
      iv.energy_j += d.energy_j;
      iv.uncertainty_j += d.uncertainty_j;
      iv.estimated = iv.estimated || d.estimated;
      iv.below_resolution = iv.below_resolution || d.below_resolution;
      iv.incomplete = iv.incomplete || d.incomplete;
      sources.insert(std::string(energy_source_name(d.source)));
      if (d.idle_power_w) idle_sum_w += *d.idle_power_w;
    }
    iv.domains.push_back(std::move(d));
  }
  iv.power_w = iv.duration_s > 0 ? iv.energy_j / iv.duration_s : 0.0;
  if (idle_) {
    if (all_idle_known && !idle_->power_w.empty()) {
      if (iv.incomplete) {
        // Each domain's idle over its own covered time (see above).
        double sum = 0.0;
        for (const auto& d : iv.domains)
          if (d.in_total && d.above_idle_j) sum += *d.above_idle_j;
        iv.above_idle_j = sum;
      } else {
        iv.above_idle_j = iv.energy_j - idle_sum_w * iv.duration_s;
      }
    } else if (idle_->power_w.empty() && !iv.incomplete) {
      // A total idle power cannot be matched to a partial coverage: no above-idle figure then.
      iv.above_idle_j = iv.energy_j - idle_->total_power_w * iv.duration_s;
    }
  }
  if (sources.size() == 1) {
    iv.energy_source = *sources.begin();
  } else {
    iv.energy_source = "mixed:";
    for (const auto& s : sources) iv.energy_source += " " + s;
  }
  return iv;
}

Result<Measurement> Meter::stop() {
  if (!running_) return make_error(Errc::kInternal, "meter stop before start");
  running_ = false;
  auto snaps = sampler_.snapshot();
  marks_.push_back({"", sampler_.clock().now().value(), std::move(snaps)});
  Measurement m;
  m.idle = idle_;
  auto total = interval("total", marks_.front(), marks_.back());
  if (!total) return total.error();
  m.total = std::move(total).value();
  const bool phased = marks_.size() > 2 || !marks_.front().name.empty();
  if (phased) {
    for (std::size_t k = 0; k + 1 < marks_.size(); ++k) {
      auto ph = interval(marks_[k].name, marks_[k], marks_[k + 1]);
      if (!ph) return ph.error();
      m.phases.push_back(std::move(ph).value());
    }
  }
  return m;
}

Result<SliceSpan> Meter::span() const {
  if (running_ || marks_.size() < 2) return make_error(Errc::kInternal, "meter: no measured span before stop()");
  SliceSpan s;
  s.t0_s = marks_.front().t_s;
  s.t1_s = marks_.back().t_s;
  s.start = marks_.front().snaps;
  s.end = marks_.back().snaps;
  return s;
}

Result<SliceSpan> Meter::phase_span(const std::string& phase) const {
  if (running_ || marks_.size() < 2) return make_error(Errc::kInternal, "meter: no measured span before stop()");
  for (std::size_t k = 0; k + 1 < marks_.size(); ++k)
    if (marks_[k].name == phase) {
      SliceSpan s;
      s.t0_s = marks_[k].t_s;
      s.t1_s = marks_[k + 1].t_s;
      s.start = marks_[k].snaps;
      s.end = marks_[k + 1].snaps;
      return s;
    }
  return make_error(Errc::kNotFound, "meter: no interval named '" + phase + "'");
}

Result<IdleBaseline> measure_idle(Sampler& sampler, Seconds duration) {
  Meter meter(sampler);
  if (auto s = meter.start(); !s) return s.error();
  const Clock& clock = sampler.clock();
  clock.sleep_until(clock.now() + duration);
  auto m = meter.stop();
  if (!m) return m.error();
  IdleBaseline idle;
  for (const auto& d : m->total.domains) {
    idle.power_w.emplace_back(d.power_w);
    if (d.in_total) idle.total_power_w += d.power_w;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "measured for %.1f s", m->total.duration_s);
  idle.basis = buf;
  return idle;
}

IdleBaseline given_idle(Watts total) {
  IdleBaseline idle;
  idle.total_power_w = total.value();
  idle.basis = "given (--idle-power)";
  return idle;
}

}  // namespace jouleperf
