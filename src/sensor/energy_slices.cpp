#include "jouleperf/sensor/energy_slices.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace jouleperf {
namespace {

// Cumulative energy at `t` by linear interpolation between samples (held flat past the
// ends). `samples` is in time order and not empty.
double cumulative_at(const std::vector<Sample>& samples, double t) {
  auto it = std::lower_bound(samples.begin(), samples.end(), t, [](const Sample& s, double v) { return s.t_s < v; });
  if (it == samples.begin()) return samples.front().energy_j;
  if (it == samples.end()) return samples.back().energy_j;
  const Sample& b = *it;
  const Sample& a = *(it - 1);
  if (b.t_s <= a.t_s) return b.energy_j;
  return a.energy_j + (b.energy_j - a.energy_j) * (t - a.t_s) / (b.t_s - a.t_s);
}

}  // namespace

Result<std::vector<EnergySlice>> energy_slices(const Sampler& sampler, const SliceSpan& span, double dt_s) {
  if (!std::isfinite(span.t0_s) || !std::isfinite(span.t1_s) || span.t1_s <= span.t0_s)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("energy slices: the span [{}, {}] s is empty or reversed", span.t0_s, span.t1_s));
  if (!std::isfinite(dt_s) || dt_s <= 0)
    return make_error(Errc::kInvalidArgument, fmt::format("energy slices: slice length {} s", dt_s));
  // A last slice of a rounding error's length is folded into the one before it.
  const double count = std::max(1.0, std::ceil((span.t1_s - span.t0_s) / dt_s - 1e-9));
  if (count > 1e7)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("energy slices: {:.0f} slices of {} s; use longer slices", count, dt_s));
  for (const auto* edge : {&span.start, &span.end})
    if (*edge && (*edge)->size() != sampler.size())
      return make_error(Errc::kInvalidArgument, fmt::format("energy slices: {} edge snapshots for {} sensors",
                                                            (*edge)->size(), sampler.size()));
  const auto n = static_cast<std::size_t>(count);
  std::vector<EnergySlice> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    out[k].t0_s = span.t0_s + dt_s * static_cast<double>(k);
    out[k].t1_s = k + 1 == n ? span.t1_s : span.t0_s + dt_s * static_cast<double>(k + 1);
  }
  for (std::size_t i = 0; i < sampler.size(); ++i) {
    if (!sampler.info(i).caps.in_total) continue;
    std::uint64_t dropped = 0;
    const auto samples = sampler.samples(i, &dropped);
    if (samples.empty())
      return make_error(Errc::kNotFound,
                        fmt::format("energy slices: {} has no reading around the span", sampler.info(i).domain));
    // Readings from inside the span overwritten in the ring: its early energy has no time.
    if (dropped > 0 && samples.front().t_s > span.t0_s)
      return make_error(Errc::kNotFound,
                        fmt::format("energy slices: {}'s readings from {:.1f} s into the span on are the oldest kept "
                                    "(the ring holds {} readings; a lower rate or a larger ring keeps more)",
                                    sampler.info(i).domain, samples.front().t_s - span.t0_s, samples.size()));
    double prev = span.start ? (*span.start)[i].energy.value() : cumulative_at(samples, span.t0_s);
    for (std::size_t k = 0; k < n; ++k) {
      double next = k + 1 == n && span.end ? (*span.end)[i].energy.value() : cumulative_at(samples, out[k].t1_s);
      if (span.end) next = std::min(next, (*span.end)[i].energy.value());  // never past the end edge
      // A cumulative energy never falls; a boundary interpolated just past an edge
      // snapshot is held at that edge, so the slices sum to the edges' difference.
      const double rise = std::max(0.0, next - prev);
      out[k].energy_j += rise;
      prev += rise;
    }
  }
  return out;
}

}  // namespace jouleperf
