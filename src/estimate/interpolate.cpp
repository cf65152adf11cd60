#include "jouleperf/estimate/interpolate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace jouleperf::estimate {

CellGrid CellGrid::of_config(std::span<const study::CellResult> cells, std::string_view config) {
  CellGrid g;
  for (const auto& c : cells) {
    if (c.key.config != config || c.status != study::CellStatus::kDone || c.reps.empty()) continue;
    g.cells_[{c.key.input_tokens, c.key.output_tokens, c.key.batch}] = &c;
  }
  return g;
}

const study::CellResult* CellGrid::find(std::uint64_t input, std::uint64_t output, std::uint64_t batch) const {
  auto it = cells_.find({input, output, batch});
  return it == cells_.end() ? nullptr : it->second;
}

std::vector<std::uint64_t> CellGrid::batches_at(std::uint64_t input, std::uint64_t output) const {
  std::vector<std::uint64_t> out;
  for (auto it = cells_.lower_bound({input, output, 0}); it != cells_.end(); ++it) {
    if (std::get<0>(it->first) != input || std::get<1>(it->first) != output) break;
    out.push_back(std::get<2>(it->first));
  }
  return out;
}

std::vector<std::uint64_t> CellGrid::batches() const {
  std::set<std::uint64_t> s;
  for (const auto& [k, c] : cells_) s.insert(std::get<2>(k));
  return {s.begin(), s.end()};
}

std::vector<std::uint64_t> CellGrid::inputs_at(std::uint64_t batch) const {
  std::set<std::uint64_t> s;
  for (const auto& [k, c] : cells_)
    if (std::get<2>(k) == batch) s.insert(std::get<0>(k));
  return {s.begin(), s.end()};
}

std::vector<std::uint64_t> CellGrid::outputs_at(std::uint64_t batch) const {
  std::set<std::uint64_t> s;
  for (const auto& [k, c] : cells_)
    if (std::get<2>(k) == batch) s.insert(std::get<1>(k));
  return {s.begin(), s.end()};
}

std::vector<std::string> CellGrid::nearest(double input, double output, std::size_t n) const {
  std::vector<std::pair<double, std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>>> d;
  const double li = std::log(std::max(input, 1.0)), lo = std::log(std::max(output, 1.0));
  for (const auto& [k, c] : cells_) {
    const double di = std::log(static_cast<double>(std::max<std::uint64_t>(std::get<0>(k), 1))) - li;
    const double dout = std::log(static_cast<double>(std::max<std::uint64_t>(std::get<1>(k), 1))) - lo;
    d.push_back({di * di + dout * dout, k});
  }
  std::sort(d.begin(), d.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < d.size() && i < n; ++i)
    out.push_back(
        fmt::format("I={} O={} B={}", std::get<0>(d[i].second), std::get<1>(d[i].second), std::get<2>(d[i].second)));
  return out;
}

double Interpolation::energy_batch_j() const {
  double e = 0.0;
  for (const auto& c : corners) e += c.weight * c.cell->energy_per_batch_j().mean;
  return e;
}

namespace {

// The measured values bracketing x: (lo, hi, t) with t the position of ln x between
// ln lo and ln hi. False when x is outside [front, back] (after clamping below).
bool bracket(const std::vector<std::uint64_t>& values, double& x, bool clamp_below, bool& clamped, std::uint64_t& lo,
             std::uint64_t& hi, double& t, LengthSpace space) {
  if (values.empty()) return false;
  if (x < static_cast<double>(values.front())) {
    if (!clamp_below) return false;
    x = static_cast<double>(values.front());
    clamped = true;
  }
  if (x > static_cast<double>(values.back())) return false;
  auto it = std::lower_bound(values.begin(), values.end(), x,
                             [](std::uint64_t v, double y) { return static_cast<double>(v) < y; });
  hi = *it;
  if (static_cast<double>(hi) == x) {
    lo = hi;
    t = 0.0;
    return true;
  }
  lo = *(it - 1);
  if (space == LengthSpace::kLinear) {
    t = (x - static_cast<double>(lo)) / (static_cast<double>(hi) - static_cast<double>(lo));
  } else {
    t = (std::log(x) - std::log(static_cast<double>(lo))) /
        (std::log(static_cast<double>(hi)) - std::log(static_cast<double>(lo)));
  }
  return true;
}

}  // namespace

Result<Interpolation> interpolate_at(const CellGrid& grid, std::uint64_t batch, double input, double output,
                                     bool clamp_below, LengthSpace space) {
  if (!(input > 0.0) || !(output > 0.0))
    return make_error(Errc::kInvalidArgument,
                      fmt::format("interpolation needs lengths > 0 (I={:g} O={:g})", input, output));
  Interpolation r;
  r.batch = batch;
  std::uint64_t i0 = 0, i1 = 0, o0 = 0, o1 = 0;
  double t = 0.0, u = 0.0;
  double x = input, y = output;
  const auto ins = grid.inputs_at(batch);
  const auto outs = grid.outputs_at(batch);
  if (!bracket(ins, x, clamp_below, r.clamped, i0, i1, t, space) ||
      !bracket(outs, y, clamp_below, r.clamped, o0, o1, u, space))
    return make_error(Errc::kNotFound,
                      fmt::format("I={:g} O={:g} lies outside the lengths measured at B={}", input, output, batch));
  const std::uint64_t is[2] = {i0, i1};
  const std::uint64_t os[2] = {o0, o1};
  const double wi[2] = {1.0 - t, t};
  const double wo[2] = {1.0 - u, u};
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const double w = wi[a] * wo[b];
      if (w == 0.0) continue;
      if ((a == 1 && i1 == i0) || (b == 1 && o1 == o0)) continue;
      const study::CellResult* c = grid.find(is[a], os[b], batch);
      if (c == nullptr)
        return make_error(Errc::kNotFound, fmt::format("I={:g} O={:g} at B={}: corner cell I={} O={} is not measured",
                                                       input, output, batch, is[a], os[b]));
      r.corners.push_back(Corner{c, w});
    }
  }
  r.exact = r.corners.size() == 1 && !r.clamped;
  return r;
}

}  // namespace jouleperf::estimate
