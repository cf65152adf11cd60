// Savings with an interval from paired repetitions: in a rep-major sweep, repetition k of
// every cell ran in round k, side by side with the same cell of the other configurations,
// so the k-th repetitions of two configurations share the machine's state at that time.
// The workload estimate from the k-th repetitions alone gives one saving per round; their
// spread (a paired t interval) is the saving's uncertainty with the drift between rounds
// taken out.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "jouleperf/estimate/workload_estimate.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::estimate {

struct PairedSaving {
  double mean_pct = 0.0;  // mean over rounds of 100 * (1 - E_k / E_baseline,k), %
  double lo_pct = 0.0;    // 95 % interval of that mean (Student's t over the rounds), %
  double hi_pct = 0.0;
  std::uint32_t pairs = 0;  // rounds used (>= 2)
};

// The paired saving of `config` against `baseline` on `bins` (and `lengths`, as the paper's
// estimate uses them: the savings compare paper estimates). Uses the rounds every done cell
// of both configurations has (the smallest repetition count). nullopt, with `why` set, when
// there is no pairing: a cell not run rep-major (older stores, cell-major order), a
// repetition whose round differs from its index, fewer than two common rounds, or a
// configuration that cannot be estimated from one round.
std::optional<PairedSaving> paired_saving(std::span<const study::CellResult> cells, const std::string& config,
                                          const std::string& baseline, const WorkloadBins& bins,
                                          const RequestLengths* lengths, const EstimateOptions& options,
                                          std::string* why);

}  // namespace jouleperf::estimate
