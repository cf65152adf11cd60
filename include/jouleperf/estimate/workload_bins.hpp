// A workload as the estimate sees it: the non-empty ceiling bins (I*, O*) with their
// request counts N, and, when known, every request's real lengths (for the corrected
// estimate and the FLOPs baseline on real lengths).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/binning.hpp"
#include "jouleperf/workload/default_workloads.hpp"

namespace jouleperf::estimate {

// One ceiling bin: requests with input in (input_lo, input_tokens] and output in
// (output_lo, output_tokens].
struct EstimateBin {
  std::uint64_t input_tokens = 0;   // I*, tokens
  std::uint64_t output_tokens = 0;  // O*, tokens
  std::uint64_t input_lo = 0;       // the previous input edge (0 for the first bin), tokens
  std::uint64_t output_lo = 0;      // the previous output edge, tokens
  std::uint64_t requests = 0;       // N(I*, O*)
};

// Per-request lengths, parallel arrays (tokens).
struct RequestLengths {
  std::vector<std::uint32_t> inputs;
  std::vector<std::uint32_t> outputs;
};

struct WorkloadBins {
  std::string name;   // "azure-conv-2023" or the trace file's stem
  std::string trace;  // the path, or "embedded:NAME"
  std::vector<std::uint64_t> input_edges;
  std::vector<std::uint64_t> output_edges;
  std::vector<EstimateBin> bins;  // non-empty bins, input-major order
  std::uint64_t offered = 0;      // requests offered to the binning
  std::uint64_t requests = 0;     // requests in some bin (sum of N)
  std::uint64_t excluded = 0;     // requests past the last edges (left out)
  workload::OutOfRange policy = workload::OutOfRange::kExclude;
};

// The non-empty bins of a binning (overflow bins included, with their edges).
WorkloadBins bins_from_binning(const workload::BinningResult& binning, std::string name, std::string trace);

// Lengths multiplied before binning (1 = none): l' = max(1, round(l * factor)).
struct LengthScale {
  double input = 1.0;
  double output = 1.0;
};
// kInvalidArgument for a factor that is not finite and > 0, or a scaled length past 2^32 - 1.
Status scale_lengths(RequestLengths& lengths, const LengthScale& scale);

// Per-request lengths standing in for an embedded workload, whose real lengths are not
// embedded: for each of its bins, N lengths spread over the bin by the embedded marginal
// quantile tables restricted to the bin (input at stratified probabilities, output at a
// base-2 van der Corput sequence, so input and output are independent within the bin).
// Every length lies in its bin, so binning them on the workload's own edges gives its
// counts back exactly. Requests the embedded figures exclude are not generated.
RequestLengths lengths_from_default(const workload::DefaultWorkload& workload);

// Bins lengths on the given edges. Fails as workload::bin_requests fails.
Result<WorkloadBins> bin_lengths(const RequestLengths& lengths, const workload::BinningOptions& options,
                                 std::string name, std::string trace);

// The ceiling bin index of each request in `bins.bins`, or bins.bins.size() for a request
// in no bin (excluded). Bins are found by their edges.
std::vector<std::size_t> bin_index_of_requests(const WorkloadBins& bins, const RequestLengths& lengths);

}  // namespace jouleperf::estimate
