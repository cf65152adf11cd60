// The derivative-free minimiser behind the simulator's calibrations (sim/calibrate.hpp,
// sim/serving_fit.hpp): Nelder-Mead with the standard coefficients (reflection 1,
// expansion 2, contraction 1/2, shrink 1/2), restarted from the best point with a smaller
// simplex so that a collapsed simplex does not end the search early. Deterministic: the
// same objective, start and options give the same point, value and count.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace jouleperf::sim {

struct NelderMeadOptions {
  // Each restart's simplex is the best point so far plus `step` along each coordinate
  // axis (in the objective's own units); the step halves at every restart, down to
  // `min_step`.
  double step = 1.0;
  double min_step = 0.05;
  // A simplex is done when its worst value is within `tolerance` * (1 + |best value|) of
  // its best.
  double tolerance = 1e-12;
  // Objective evaluations after the start point's, over all restarts. Checked before each
  // step, so the search may pass it by one step (at most n + 1 evaluations in n dimensions).
  std::uint32_t max_evaluations = 1000;
  // Evaluations one restart may spend once its simplex is built (0: no cap below
  // max_evaluations).
  std::uint32_t restart_evaluations = 0;
  // Simplexes built at most, the first included (0: no limit).
  std::uint32_t max_restarts = 0;
  // A restart that lowers the best value by less than `min_gain` is quiet; the search
  // stops after `quiet_restarts` quiet restarts in a row.
  double min_gain = 1e-10;
  std::uint32_t quiet_restarts = 1;
};

struct NelderMeadResult {
  std::vector<double> x;          // the best point found (the start when nothing beat it)
  double value = 0.0;             // the objective at x
  std::uint32_t evaluations = 0;  // objective calls made, the start point's included
};

// Minimises `objective` from `start` (its size is the dimension n, at least 1). The
// objective may return +infinity for a point it cannot evaluate (the search treats it as
// worse than any finite value); it should not return NaN. Never fails.
NelderMeadResult nelder_mead(const std::function<double(const std::vector<double>&)>& objective,
                             std::vector<double> start, const NelderMeadOptions& options);

// A search from each of `starts` in turn, each with all of `options` (its own
// max_evaluations). Returns the best of them (the earlier start's on a tie) with the
// evaluations of all the searches; `starts` must not be empty (else: no point, value
// +infinity, no evaluations).
NelderMeadResult nelder_mead_best_of(const std::function<double(const std::vector<double>&)>& objective,
                                     const std::vector<std::vector<double>>& starts, const NelderMeadOptions& options);

}  // namespace jouleperf::sim
