// `trace bin` as a library call: load a trace, bin it, and optionally size batches per
// bin and estimate the batch sizes continuous batching forms at the trace's own rate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jouleperf/workload/batching.hpp"
#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/loader.hpp"

namespace jouleperf::workload {

struct TraceBinningOptions {
  EdgeSpec input_edges{EdgeSpec::Kind::kList, default_input_edges(), 0, 0, 0};
  EdgeSpec output_edges{EdgeSpec::Kind::kList, default_output_edges(), 0, 0, 0};
  OutOfRange policy = OutOfRange::kExclude;
  std::optional<MemoryModel> memory;    // set: compute B(I*, O*)
  std::optional<ServiceModel> service;  // set: occupancy estimate (needs arrival times)
};

struct TraceBinning {
  LoadSummary load;
  BinningResult bins;
  std::optional<MemoryModel> memory;
  std::vector<std::vector<std::uint64_t>> batch_sizes;  // B(I*, O*) when memory is set
  std::optional<ServiceModel> service;
  std::optional<ConcurrencyStats> concurrency;  // when service is set
};

// Loads `path` (8 bytes per request for the lengths, 24 with a service model, which
// also keeps arrivals) and bins it. Fails as load_trace fails; kInvalidArgument for bad edges or
// models, or a service model on a trace without arrival times.
Result<TraceBinning> bin_trace(const std::string& path, const LoadOptions& load_options,
                               const TraceBinningOptions& options);

// The same on lengths (and optional jobs) already in memory; `load` is copied into the result.
Result<TraceBinning> bin_lengths(std::vector<std::uint32_t> inputs, std::vector<std::uint32_t> outputs,
                                 std::vector<TimedRequest> jobs, LoadSummary load, const TraceBinningOptions& options);

}  // namespace jouleperf::workload
