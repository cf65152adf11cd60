#include "jouleperf/estimate/batch_composition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <utility>

namespace jouleperf::estimate {

Result<BatchComposition> parse_batch_composition(std::string_view s) {
  if (s == "none") return BatchComposition::kNone;
  if (s == "padded") return BatchComposition::kPaddedPrompts;
  if (s == "ragged") return BatchComposition::kRaggedPrompts;
  return make_error(Errc::kInvalidArgument,
                    "batch composition takes none, padded or ragged (got '" + std::string(s) + "')");
}

std::string_view batch_composition_name(BatchComposition c) {
  switch (c) {
    case BatchComposition::kNone: return "none";
    case BatchComposition::kPaddedPrompts: return "padded";
    case BatchComposition::kRaggedPrompts: return "ragged";
  }
  return "none";
}

double expected_max_of(std::span<const double> sorted, std::size_t k) {
  const std::size_t n = sorted.size();
  if (n == 0) return 0.0;
  k = std::clamp<std::size_t>(k, 1, n);
  // P(max = j-th smallest) = C(j-1, k-1) / C(n, k), in logarithms (n is up to ~1e5).
  const double log_c_nk = std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
                          std::lgamma(static_cast<double>(n - k) + 1);
  double e = 0.0, total = 0.0;
  for (std::size_t j = k; j <= n; ++j) {
    const double log_c = std::lgamma(static_cast<double>(j)) - std::lgamma(static_cast<double>(k)) -
                         std::lgamma(static_cast<double>(j - k) + 1);
    const double p = std::exp(log_c - log_c_nk);
    e += p * sorted[j - 1];
    total += p;
  }
  return total > 0.0 ? e / total : sorted.back();  // total is 1 up to rounding
}

double BatchPrice::energy_batch_j() const {
  double e = 0.0;
  for (const auto& [interp, w] : parts) e += w * interp.energy_batch_j();
  return e;
}

Result<BatchPrice> price_batch(const CellGrid& grid, std::uint64_t k, double input, double output) {
  if (k == 0) return make_error(Errc::kInvalidArgument, "price_batch: batch size 0");
  std::optional<std::pair<std::uint64_t, Interpolation>> below, above;
  for (auto b : grid.batches()) {
    auto r = interpolate_at(grid, b, input, output, true, LengthSpace::kLinear);
    if (!r.ok()) continue;
    if (b <= k) below = std::pair{b, std::move(*r)};
    if (b >= k && !above) above = std::pair{b, std::move(*r)};
  }
  BatchPrice p;
  if (below && below->first == k) {
    p.clamped = below->second.clamped;
    p.parts.emplace_back(std::move(below->second), 1.0);
    return p;
  }
  if (!above)
    return make_error(Errc::kNotFound, fmt::format("I={:.1f} O={:.1f} lies outside the lengths measured at every "
                                                   "batch size >= {}",
                                                   input, output, k));
  p.clamped = above->second.clamped;
  const double kh = static_cast<double>(above->first), kk = static_cast<double>(k);
  if (!below) {
    p.scaled = true;
    p.parts.emplace_back(std::move(above->second), kk / kh);
    return p;
  }
  const double kl = static_cast<double>(below->first);
  const double t = (kk - kl) / (kh - kl);
  p.clamped = p.clamped || below->second.clamped;
  p.parts.emplace_back(std::move(below->second), 1.0 - t);
  p.parts.emplace_back(std::move(above->second), t);
  return p;
}

Result<BinComposition> compose_bin(std::span<const std::uint32_t> inputs, std::span<const std::uint32_t> outputs,
                                   std::uint64_t batch, BatchComposition composition) {
  if (batch == 0) return make_error(Errc::kInvalidArgument, "compose_bin: batch size 0");
  if (composition == BatchComposition::kNone)
    return make_error(Errc::kInvalidArgument, "compose_bin: no batch composition to price");
  if (inputs.size() != outputs.size())
    return make_error(Errc::kInvalidArgument, "compose_bin: input and output length arrays differ in size");
  BinComposition c;
  c.requests = inputs.size();
  c.full_batches = c.requests / batch;
  c.partial_size = c.requests % batch;
  if (c.requests == 0) return c;
  std::vector<double> in(inputs.begin(), inputs.end()), out(outputs.begin(), outputs.end());
  std::sort(in.begin(), in.end());
  std::sort(out.begin(), out.end());
  const double mean_in = std::accumulate(in.begin(), in.end(), 0.0) / static_cast<double>(in.size());
  auto input_of = [&](std::size_t k) {
    return composition == BatchComposition::kPaddedPrompts ? expected_max_of(in, k) : mean_in;
  };
  if (c.full_batches > 0) {
    c.full_input = input_of(batch);
    c.full_output = expected_max_of(out, batch);
  }
  if (c.partial_size > 0) {
    c.partial_input = input_of(c.partial_size);
    c.partial_output = expected_max_of(out, c.partial_size);
  }
  return c;
}

}  // namespace jouleperf::estimate
