// Binning a workload's lengths the paper's way: each request goes to the smallest input
// edge >= its input length and the smallest output edge >= its output length
// (I* = min{I in edges : I >= i}), and how faithful the binned workload is.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf::workload {

// The paper's edges: inputs {32, 128, 256, 512, 1024, 2048, 4096, 8192} and outputs
// {8, 16, 32, 64, 128, 256, 512} tokens.
std::vector<std::uint64_t> default_input_edges();
std::vector<std::uint64_t> default_output_edges();

// How to choose edges: a list, every power of two in [lo, hi], or quantiles of the trace.
struct EdgeSpec {
  enum class Kind { kList, kPow2, kQuantiles };
  Kind kind = Kind::kList;
  std::vector<std::uint64_t> list;  // kList: strictly increasing, tokens
  std::uint64_t lo = 0, hi = 0;     // kPow2: bounds, tokens
  std::size_t quantiles = 0;        // kQuantiles: number of bins
};

// Parses "32,128,512" (a list), "pow2:32:8192" or "quantiles:8" (alias "q:8").
// kInvalidArgument for anything else, a list that is not strictly increasing, or a
// count of 0.
Result<EdgeSpec> parse_edge_spec(std::string_view text);

// The edges a spec gives for a trace whose lengths are `sorted` (ascending; used only by
// kQuantiles: edge j = ceil(numpy-linear quantile j/k), duplicates dropped, so the last
// edge is the largest length and nothing is out of range). kInvalidArgument when no
// edge results (pow2 bounds without a power of two, quantiles of an empty trace).
Result<std::vector<std::uint64_t>> resolve_edges(const EdgeSpec& spec, std::span<const std::uint32_t> sorted);

// Requests longer than the last edge:
enum class OutOfRange {
  kExclude,   // left out, counted and reported as a share of requests and tokens (the paper)
  kClamp,     // put in the last bin (under-counts their tokens)
  kOverflow,  // an extra bin whose edge is the longest length it holds
};
// "exclude", "clamp", "overflow"; kInvalidArgument otherwise.
Result<OutOfRange> parse_out_of_range(std::string_view name);
std::string_view out_of_range_name(OutOfRange policy);

struct BinningOptions {
  std::vector<std::uint64_t> input_edges = default_input_edges();
  std::vector<std::uint64_t> output_edges = default_output_edges();
  OutOfRange policy = OutOfRange::kExclude;
};

struct BinningResult {
  // I* and O* of each bin, tokens. With kOverflow and requests past the last edge, one
  // more bin is appended whose edge is the longest length in it (flagged below).
  std::vector<std::uint64_t> input_edges;
  std::vector<std::uint64_t> output_edges;
  OutOfRange policy = OutOfRange::kExclude;
  bool input_overflow_bin = false;
  bool output_overflow_bin = false;
  std::vector<std::vector<std::uint64_t>> counts;  // N(I*, O*): [input bin][output bin], requests
  std::vector<std::vector<std::uint64_t>> tokens;  // real input+output tokens of those requests

  std::uint64_t requests = 0;  // all requests offered
  std::uint64_t binned = 0;    // requests in some bin
  std::uint64_t clamped = 0;   // requests moved into the last bin (kClamp)

  struct Excluded {
    std::uint64_t requests = 0;   // requests left out (kExclude)
    std::uint64_t by_input = 0;   // ... whose input exceeds the last input edge
    std::uint64_t by_output = 0;  // ... whose output exceeds the last output edge (both: counted in both)
    std::uint64_t tokens = 0;     // their real input+output tokens
    double request_share = 0.0;   // requests / all requests
    double token_share = 0.0;     // tokens / all tokens
  } excluded;

  // Fidelity of the binned workload, over the binned requests.
  std::uint64_t real_input_tokens = 0;     // sum of i
  std::uint64_t real_output_tokens = 0;    // sum of o
  std::uint64_t binned_input_tokens = 0;   // sum of I*
  std::uint64_t binned_output_tokens = 0;  // sum of O*
  double token_ratio = 0.0;                // (sum I* + O*) / (sum i + o): > 1 = ceiling bins over-count
  double input_token_ratio = 0.0;
  double output_token_ratio = 0.0;
  double ks_input = 0.0;   // Kolmogorov-Smirnov distance between the I* and the i distributions
  double ks_output = 0.0;  // ... between O* and o

  // Shares of one bin: of binned requests, and of binned requests' real tokens.
  double request_share(std::size_t i, std::size_t o) const;
  double token_share(std::size_t i, std::size_t o) const;
};

// Bins requests given as parallel arrays of lengths (tokens). Edges must be strictly
// increasing and non-empty (kInvalidArgument otherwise).
Result<BinningResult> bin_requests(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs,
                                   const BinningOptions& options);

// Two-sample Kolmogorov-Smirnov statistic sup_x |F_a(x) - F_b(x)| of two ascending samples.
double ks_distance(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b);

}  // namespace jouleperf::workload
