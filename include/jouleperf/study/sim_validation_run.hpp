// `jouleperf validate --engine sim`: the workload estimate checked where measurement noise
// is zero (study/full_validation.hpp) from plain settings: the workload (embedded or a
// trace), the bin edges, the batch sizes simulated as cells, the batch composition and
// order.
#pragma once

#include <cstdint>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/study/documents.hpp"

namespace jouleperf::study {

struct SimValidationOptions {
  std::string engine = "sim";   // the only engine validated at full scale
  std::string trace;            // a trace file (its requests' own lengths), or
  std::string workload;         // an embedded workload (one of the two)
  std::string format = "auto";  // trace format
  std::string input_edges = "pow2:32:8192", output_edges = "pow2:8:512";  // a list or pow2:LO:HI
  std::string out_of_range = "exclude";                                   // exclude | clamp | overflow
  std::string batches = "pow2:1:64";                                      // batch sizes simulated as cells
  std::uint64_t max_batch = 0;         // B per bin at most this (0: the largest that fits)
  std::string composition = "padded";  // padded | ragged
  std::string order;                   // trace | shuffle ("": trace for a trace, shuffle for a workload)
  std::uint64_t seed = 1;              // of the shuffled order
};

// Validates `options` on `config` (the deployment), naming the configuration `name`.
// kInvalidArgument for a bad option (naming the flag), or fails as loading the trace,
// binning or the simulation fails.
Result<SimValidationRun> run_sim_validation(const sim::SimConfig& config, const std::string& name,
                                            const SimValidationOptions& options);

}  // namespace jouleperf::study
