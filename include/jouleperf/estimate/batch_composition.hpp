// Pricing the static batches a bin's requests actually form, from cells measured at the
// bin edges: a static batch runs until its longest member ends (and, where prompts are
// padded, prefills every row at its longest prompt), so a batch of mixed real lengths
// costs more than the mean of its members; and the last batch of a bin holds fewer than
// B requests. docs/estimate.md, section 4b.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/estimate/interpolate.hpp"

namespace jouleperf::estimate {

enum class BatchComposition {
  kNone,           // each request priced alone at its real lengths (the per-request estimate)
  kPaddedPrompts,  // static batches: O = the longest output, prompts padded to the longest (HF generate, the
                   // simulator's static scheduler)
  kRaggedPrompts,  // static batches: O = the longest output, prompts not padded (llama.cpp; priced at the
                   // members' mean prompt, i.e. their summed prefill)
};
// "none", "padded", "ragged"; kInvalidArgument otherwise.
Result<BatchComposition> parse_batch_composition(std::string_view s);
std::string_view batch_composition_name(BatchComposition c);

// The expected maximum of k values drawn without replacement from `sorted` (ascending,
// any numbers): sum over j >= k of sorted[j-1] * C(j-1, k-1) / C(n, k). This is also the
// mean over batches of the batch maximum when the values are split into batches of k in
// a random order. k is clamped to [1, n]; 0 for an empty span.
double expected_max_of(std::span<const double> sorted, std::size_t k);

// E_batch of one static batch of `k` requests at effective lengths (input, output), as a
// weighted sum of measured cells: bilinear in the lengths (LengthSpace::kLinear, lengths
// below the smallest measured one raised to it) at batch k when k is measured there;
// else linear in the batch size between the nearest measured batch sizes below and above
// k at which (input, output) lies inside the grid; else, with only larger batch sizes,
// the nearest one's energy times k / that size (`scaled` set: the paper's pricing of a
// partial batch). kNotFound when no batch size >= k has the point inside its grid.
struct BatchPrice {
  std::vector<std::pair<Interpolation, double>> parts;  // interpolations and their weights
  bool scaled = false;
  bool clamped = false;
  double energy_batch_j() const;
};
Result<BatchPrice> price_batch(const CellGrid& grid, std::uint64_t k, double input, double output);

// The static batches of one bin: `inputs` and `outputs` (the bin's real lengths, any
// order) split into batches of `batch` in a random order, the last one partial.
struct BinComposition {
  std::uint64_t requests = 0;
  std::uint64_t full_batches = 0;  // floor(N / B)
  std::uint64_t partial_size = 0;  // N mod B (0: none)
  double full_input = 0.0;         // effective input of a full batch (expected max or mean), tokens
  double full_output = 0.0;        // expected longest output of a full batch, tokens
  double partial_input = 0.0;      // the same for the partial batch
  double partial_output = 0.0;
};
// kInvalidArgument for batch 0, for composition kNone, or for arrays of different sizes.
Result<BinComposition> compose_bin(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs,
                                   std::uint64_t batch, BatchComposition composition);

}  // namespace jouleperf::estimate
