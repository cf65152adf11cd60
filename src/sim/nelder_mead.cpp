#include "jouleperf/sim/nelder_mead.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace jouleperf::sim {

namespace {

using Point = std::vector<double>;
using Objective = std::function<double(const Point&)>;

// The objective with a count of its calls.
struct Counted {
  const Objective& objective;
  std::uint32_t evaluations = 0;
  double operator()(const Point& x) {
    ++evaluations;
    return objective(x);
  }
};

// One simplex around `best` (value `best_f`) with edges `step`, run until it collapses, the
// count reaches `stop_all`, or `restart_evaluations` (when not 0) more have been spent after
// the simplex was built. Returns the simplex's vertices and values.
std::pair<std::vector<Point>, std::vector<double>> run_simplex(Counted& f, const Point& best, double best_f,
                                                               double step, const NelderMeadOptions& options,
                                                               std::uint64_t stop_all) {
  const std::size_t n = best.size();
  std::vector<Point> s(n + 1, best);
  std::vector<double> fs(n + 1, best_f);
  for (std::size_t i = 0; i < n; ++i) {
    s[i + 1][i] += step;
    fs[i + 1] = f(s[i + 1]);
  }
  const std::uint64_t stop_at = options.restart_evaluations == 0
                                    ? stop_all
                                    : std::min(stop_all, std::uint64_t{f.evaluations} + options.restart_evaluations);
  std::vector<std::size_t> order(n + 1);
  while (f.evaluations < stop_at) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fs[a] < fs[b]; });
    const std::size_t lo = order[0], hi = order[n], second = order[n - 1];
    if (std::abs(fs[hi] - fs[lo]) < options.tolerance * (1.0 + std::abs(fs[lo]))) break;
    Point centroid(n, 0.0);
    for (std::size_t i = 0; i <= n; ++i) {
      if (i == hi) continue;
      for (std::size_t d = 0; d < n; ++d) centroid[d] += s[i][d] / static_cast<double>(n);
    }
    // The point at t times the way from the centroid to the worst vertex.
    auto along = [&](double t) {
      Point p(n);
      for (std::size_t d = 0; d < n; ++d) p[d] = centroid[d] + t * (s[hi][d] - centroid[d]);
      return p;
    };
    auto replace_worst = [&](Point p, double v) {
      s[hi] = std::move(p);
      fs[hi] = v;
    };
    Point xr = along(-1.0);
    const double fr = f(xr);
    if (fr < fs[lo]) {
      Point xe = along(-2.0);
      const double fe = f(xe);
      if (fe < fr) {
        replace_worst(std::move(xe), fe);
      } else {
        replace_worst(std::move(xr), fr);
      }
    } else if (fr < fs[second]) {
      replace_worst(std::move(xr), fr);
    } else {
      const bool outside = fr < fs[hi];
      Point xc = along(outside ? -0.5 : 0.5);
      const double fc = f(xc);
      if (fc < (outside ? fr : fs[hi])) {
        replace_worst(std::move(xc), fc);
      } else {
        for (std::size_t i = 0; i <= n; ++i) {
          if (i == lo) continue;
          for (std::size_t d = 0; d < n; ++d) s[i][d] = s[lo][d] + 0.5 * (s[i][d] - s[lo][d]);
          fs[i] = f(s[i]);
        }
      }
    }
  }
  return {std::move(s), std::move(fs)};
}

}  // namespace

NelderMeadResult nelder_mead(const Objective& objective, Point start, const NelderMeadOptions& options) {
  Counted counted{objective};
  NelderMeadResult out;
  out.x = std::move(start);
  out.value = counted(out.x);
  out.evaluations = counted.evaluations;
  if (out.x.empty()) return out;
  const std::uint64_t stop_all = std::uint64_t{counted.evaluations} + options.max_evaluations;
  const std::uint32_t quiet_limit = std::max<std::uint32_t>(options.quiet_restarts, 1);
  double step = options.step;
  std::uint32_t quiet = 0;
  for (std::uint32_t restart = 0;
       (options.max_restarts == 0 || restart < options.max_restarts) && counted.evaluations < stop_all; ++restart) {
    const auto [s, fs] = run_simplex(counted, out.x, out.value, step, options, stop_all);
    const auto it = std::min_element(fs.begin(), fs.end());
    const double gain = out.value - *it;
    if (*it < out.value) {
      out.value = *it;
      out.x = s[static_cast<std::size_t>(it - fs.begin())];
    }
    quiet = gain < options.min_gain ? quiet + 1 : 0;
    if (quiet >= quiet_limit) break;
    step = std::max(step * 0.5, options.min_step);
  }
  out.evaluations = counted.evaluations;
  return out;
}

NelderMeadResult nelder_mead_best_of(const Objective& objective, const std::vector<Point>& starts,
                                     const NelderMeadOptions& options) {
  NelderMeadResult best;
  best.value = std::numeric_limits<double>::infinity();
  std::uint32_t evaluations = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    auto found = nelder_mead(objective, starts[k], options);
    evaluations += found.evaluations;
    if (k == 0 || found.value < best.value) best = std::move(found);
  }
  best.evaluations = evaluations;
  return best;
}

}  // namespace jouleperf::sim
