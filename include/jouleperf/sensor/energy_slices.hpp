// A run's measured energy over time, as slices (engine/attribution.hpp splits them among
// requests): from the sampler's rings, each sensor counted in the total contributes its
// cumulative energy's rise over each slice, read between its samples by linear
// interpolation (a counter's energy, or the running trapezoid of a power sensor). The
// slices telescope: their sum is the sensors' cumulative rise over the whole span.
#pragma once

#include <optional>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {

// A span of a run with its measured energy, J. Slices cover a run in time order.
struct EnergySlice {
  double t0_s = 0, t1_s = 0;
  double energy_j = 0;
};

// The edges of the span to slice, on the sampler's clock. Where a Meter measured the run,
// pass its first and last snapshots (Meter::span) so that the slices' sum equals the
// Meter's total exactly: each sensor's cumulative energy at the edges is then taken from
// them rather than interpolated.
struct SliceSpan {
  double t0_s = 0, t1_s = 0;
  std::optional<std::vector<SensorSnapshot>> start, end;  // one per sampler sensor
};

// Slices of at most `dt_s` seconds over the span (the last one shorter), summed over the
// sensors counted in the total. kInvalidArgument for an empty or reversed span, dt_s not
// positive and finite, more than 10,000,000 slices, or edge snapshots of the wrong size;
// kNotFound when a sensor in the total has no reading inside or around the span (its
// ring overwritten, or read before it started).
Result<std::vector<EnergySlice>> energy_slices(const Sampler& sampler, const SliceSpan& span, double dt_s);

}  // namespace jouleperf
