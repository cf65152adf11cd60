// Calibration against published steady-state serving measurements (ML.ENERGY-style
// rows, sim/serving.hpp): fits a few physically meaningful figures of a GPU stack and the
// power model — not one correction per row — and checks them by leave-one-out. Also the
// per-row comparison `jouleperf fidelity` prints. Method: docs/simulator.md
// ("Calibration against published measurements"); results: docs/fidelity.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/serving.hpp"

namespace jouleperf::sim {

// One measurement with the configuration it ran (its stack and power are replaced by
// the ones being evaluated) and the prompt length used for it.
struct ServingCase {
  ServingMeasurement measured;
  SimConfig config;
  double input_tokens = 0;  // the row's avg_input_tokens, else the assumed length
};

// The cases of measurement rows: each row's configuration (measurement_config) and its
// prompt length (its avg_input_tokens, else `assumed_input_tokens`, which must be > 0).
// measurement_config's errors (file, line, field).
Result<std::vector<ServingCase>> serving_cases(const std::vector<ServingMeasurement>& rows,
                                               const hardware::HardwareRegistry& registry, const SoftwareStack& stack,
                                               const PowerModel& power, double assumed_input_tokens,
                                               const std::string& origin);

// Simulated against measured for one row; absent where the row has no such figure.
struct ServingComparison {
  ServingMeasurement measured;
  double input_tokens = 0;
  SteadyState predicted;
  // Signed relative errors, predicted / measured - 1.
  std::optional<double> power_err, j_per_token_err, j_per_request_err, itl_err, throughput_err;
};

// Median and worst |error| of one figure over the rows that carry it, as fractions.
struct ErrorSummary {
  std::size_t rows = 0;
  double median_abs = 0;
  double worst_abs = 0;
};

struct ServingErrors {
  ErrorSummary power, j_per_token, j_per_request, itl, throughput;
};

// Compares every case under `stack` and `power` (steady_state per row). steady_state's
// errors, prefixed with the row's line.
Result<std::vector<ServingComparison>> compare_serving(const std::vector<ServingCase>& cases,
                                                       const SoftwareStack& stack, const PowerModel& power,
                                                       const std::string& origin);
ServingErrors summarize(const std::vector<ServingComparison>& rows);

// A fitted figure: its name (the stack or power field), value, bounds and where it lives.
struct FittedFigure {
  std::string name;  // "memory_efficiency", "active_floor", ...
  double value = 0;
  double lo = 0, hi = 0;
};

struct ServingFitOptions {
  std::uint32_t max_evaluations = 4000;  // objective evaluations per fit, at most
  bool leave_one_out = true;             // also refit once per row without it
};

struct ServingFitResult {
  SoftwareStack stack;  // the base stack with the fitted figures
  PowerModel power;     // the base power model with the fitted figures
  std::vector<FittedFigure> figures;
  std::vector<ServingComparison> train;  // every row, fitted on all
  std::vector<ServingComparison> held;   // row k predicted by the fit on the others (leave-one-out)
  ServingErrors train_errors, held_errors;
  double objective = 0;  // sum of squared log errors at the fit
  std::uint32_t evaluations = 0;
};

// The figures fitted, in order, with their physical bounds: the stack's compute and memory
// efficiencies (achieved share of dense peak FLOP/s, 0.3..1, and of HBM bandwidth,
// 0.72..1), its host time per step (0..3 ms), and the power model's active floor
// (0.2..0.95), memory weight (0..2) and compute weight (1..6).
std::vector<FittedFigure> serving_fit_figures();

// Fits the figures of serving_fit_figures() to the cases (base stack and power for
// everything else) by minimizing the sum over rows of the squared log errors of each
// figure the row carries (power, J per output token, median ITL, output tokens/s; J per
// request only where J per output token is absent), Nelder-Mead over the bounded figures
// from set starts. With leave_one_out, each row is also predicted by a fit on the others.
// kInvalidArgument with fewer than 3 cases; steady_state's errors for a row that cannot
// run (named by line).
Result<ServingFitResult> fit_serving(const std::vector<ServingCase>& cases, const SoftwareStack& base_stack,
                                     const PowerModel& base_power, const std::string& origin,
                                     const ServingFitOptions& options = {});

}  // namespace jouleperf::sim
