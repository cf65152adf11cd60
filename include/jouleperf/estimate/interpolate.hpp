// E_batch at lengths that were not measured: bilinear interpolation in (ln I, ln O)
// between the measured cells of one configuration at one batch size.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::estimate {

// The usable cells of one configuration (status done, at least one repetition), indexed
// by (I, O, B). Holds pointers into the span it was built from: keep that alive.
class CellGrid {
 public:
  CellGrid() = default;
  // Cells of `config` from `cells`; others, skipped cells and cells without repetitions
  // are left out.
  static CellGrid of_config(std::span<const study::CellResult> cells, std::string_view config);

  bool empty() const { return cells_.empty(); }
  // The cell at (I, O, B), or nullptr.
  const study::CellResult* find(std::uint64_t input, std::uint64_t output, std::uint64_t batch) const;
  // Batch sizes measured at (I, O), ascending.
  std::vector<std::uint64_t> batches_at(std::uint64_t input, std::uint64_t output) const;
  // Every batch size measured, ascending.
  std::vector<std::uint64_t> batches() const;
  // Distinct input (output) lengths measured at batch B, ascending.
  std::vector<std::uint64_t> inputs_at(std::uint64_t batch) const;
  std::vector<std::uint64_t> outputs_at(std::uint64_t batch) const;
  // Up to `n` cells nearest to (I, O) in (ln I, ln O), nearest first (ties: smaller
  // key), as "I=.. O=.. B=.." — for refusal messages.
  std::vector<std::string> nearest(double input, double output, std::size_t n = 3) const;

 private:
  std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>, const study::CellResult*> cells_;
};

// One measured cell and its weight in an interpolated E_batch.
struct Corner {
  const study::CellResult* cell = nullptr;
  double weight = 0.0;  // >= 0; the weights of an interpolation sum to 1
};

// E_batch(i, o, B) as a weighted sum of measured cells' mean energies per batch.
struct Interpolation {
  std::uint64_t batch = 0;
  std::vector<Corner> corners;  // 1 (a measured point), 2 (on a grid line) or 4
  bool exact = false;           // (i, o) is a measured cell
  bool clamped = false;         // a length below the smallest measured one was raised to it
  // The weighted mean energy per batch, J.
  double energy_batch_j() const;
};

// E_batch at real-valued lengths (i, o) from the cells measured at batch `batch`:
// with I_lo <= i <= I_hi the nearest measured inputs at that batch (and O likewise),
// t = (ln i - ln I_lo) / (ln I_hi - ln I_lo), u likewise, the weights are
// (1-t)(1-u), t(1-u), (1-t)u, tu on the four corners. Exact at measured cells; between
// them monotone in i and o when the corners are. With clamp_below, a length below the
// smallest measured one is raised to it (the estimate then keeps the ceiling there);
// otherwise such a point is outside. Fails with kNotFound naming the point when it lies
// outside the measured lengths at that batch or a corner cell is missing; kInvalidArgument
// for a length <= 0.
// With LengthSpace::kLinear the weights use t = (i - I_lo) / (I_hi - I_lo) (and u
// likewise) instead: energy grows about linearly with lengths between neighbouring cells
// (decode steps with O, prefill with I), where bilinear weights in the logarithms
// over-weight the longer corner (up to 25% at a 4x grid step). The corrected estimate
// uses kLinear; missing bins kLog.
enum class LengthSpace { kLog, kLinear };
Result<Interpolation> interpolate_at(const CellGrid& grid, std::uint64_t batch, double input, double output,
                                     bool clamp_below, LengthSpace space = LengthSpace::kLog);

}  // namespace jouleperf::estimate
