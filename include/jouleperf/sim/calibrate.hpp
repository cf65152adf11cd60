// Calibration: fit the simulator's free figures for one machine, engine and model to
// measured batches, and check the fit on batches it did not see. The fitted figures are
// the effective matrix rate and memory bandwidth of the device (what the engine reaches,
// so the stack's efficiencies are set to 1), the stack's host time per step and per
// sequence and its decode attention efficiency, and the power model's idle and
// full-load power and active floor. Every
// prediction made with the result is still simulated; the calibration only says how far
// the simulator was from this machine on cells like the held-out ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/config.hpp"

namespace jouleperf::sim {

// One measured batch: B sequences of I prompt and O generated tokens.
struct MeasuredBatch {
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::uint32_t batch = 0;
  double duration_s = 0.0;  // first forward to last token, s (mean over repetitions)
  double energy_j = 0.0;    // the batch's energy, J (mean over repetitions)
  std::string label;        // where it came from, e.g. "q8_0 I=128 O=32 B=4"
};

struct CalibrationOptions {
  std::uint32_t hold_out_every = 3;      // every k-th cell (in the given order, from the 2nd) is held out; >= 2
  std::uint32_t max_evaluations = 4000;  // objective evaluations of each Nelder-Mead search, at most
  std::uint32_t random_starts = 6;       // searches from random points around the base, after 3 set starts
};

struct CellFit {
  MeasuredBatch measured;
  double predicted_duration_s = 0.0;
  double predicted_energy_j = 0.0;
  bool held_out = false;
};

struct CalibrationResult {
  SimConfig config;  // `base` with the fitted figures (hardware.peak_flops, bandwidth,
                     // idle_w, tdp_w; stack host times, decode_attention_efficiency;
                     // power.active_floor)
  std::vector<CellFit> cells;
  // Mean absolute percentage errors, %: 100 * mean |predicted / measured - 1|.
  double train_mape_energy_pct = 0.0;
  double train_mape_latency_pct = 0.0;
  double heldout_mape_energy_pct = 0.0;
  double heldout_mape_latency_pct = 0.0;
  std::uint32_t evaluations = 0;
  std::uint32_t train_cells = 0;
  std::uint32_t heldout_cells = 0;
};

// Fits `base` (a CPU or GPU profile, a stack, the model and its weight precision) to the
// measured batches by minimizing the sum of squared log errors of duration and energy
// over the training cells (Nelder-Mead over the logs of the figures, from 3 set starts
// and `random_starts` seeded random ones; the best end point wins). kInvalidArgument
// with fewer than 4 cells, a zero duration or energy, or hold_out_every < 2; the
// simulator's errors for a configuration it cannot run.
Result<CalibrationResult> calibrate(const SimConfig& base, const std::vector<MeasuredBatch>& cells,
                                    const CalibrationOptions& options = {});

}  // namespace jouleperf::sim
