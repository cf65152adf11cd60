// Requests drawn inside an embedded workload's bins: the embedded figures hold N(I*, O*)
// and the length quantiles, not the requests themselves (the raw trace is not shipped).
// Drawing N lengths per bin from each marginal's quantile table restricted to the bin's
// range gives a request list with exactly the trace's bin counts and, within each bin,
// the trace's marginal length distributions. The pairing of input and output inside a bin
// is independent, which the real trace need not be; say so wherever these are used.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::workload {

// Draws every binned request of `w` (sum of its counts; excluded requests are not drawn),
// bin by bin in row-major order, arrival_s = 0. Each length lies in its bin's range
// (previous edge, edge] (first bin: [1, edge]). Deterministic for a given rng state.
// kInvalidArgument when the workload's quantile tables are malformed.
Result<std::vector<TimedRequest>> draw_requests_in_bins(const DefaultWorkload& w, std::mt19937_64& rng);

// ceil(tokens / divisor), at least 1: scaling that keeps every request in the bin whose
// edges are divided by the same divisor, when the edges are multiples of it.
std::uint32_t scale_length_down(std::uint32_t tokens, std::uint32_t divisor);

}  // namespace jouleperf::workload
