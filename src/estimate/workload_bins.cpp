#include "jouleperf/estimate/workload_bins.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <utility>

namespace jouleperf::estimate {

WorkloadBins bins_from_binning(const workload::BinningResult& binning, std::string name, std::string trace) {
  WorkloadBins w;
  w.name = std::move(name);
  w.trace = std::move(trace);
  w.input_edges = binning.input_edges;
  w.output_edges = binning.output_edges;
  w.offered = binning.requests;
  w.requests = binning.binned;
  w.excluded = binning.excluded.requests;
  w.policy = binning.policy;
  for (std::size_t i = 0; i < binning.input_edges.size(); ++i) {
    for (std::size_t o = 0; o < binning.output_edges.size(); ++o) {
      const std::uint64_t n = binning.counts[i][o];
      if (n == 0) continue;
      w.bins.push_back(EstimateBin{binning.input_edges[i], binning.output_edges[o],
                                   i == 0 ? 0 : binning.input_edges[i - 1], o == 0 ? 0 : binning.output_edges[o - 1],
                                   n});
    }
  }
  return w;
}

Status scale_lengths(RequestLengths& lengths, const LengthScale& scale) {
  for (double f : {scale.input, scale.output})
    if (!std::isfinite(f) || f <= 0.0)
      return make_error(Errc::kInvalidArgument, "length scale must be finite and > 0 (got " + std::to_string(f) + ")");
  auto apply = [](std::vector<std::uint32_t>& v, double f, const char* what) -> Status {
    if (f == 1.0) return {};
    for (auto& l : v) {
      const double x = std::max(1.0, std::round(static_cast<double>(l) * f));
      if (x > static_cast<double>(std::numeric_limits<std::uint32_t>::max()))
        return make_error(Errc::kInvalidArgument, std::string("scaled ") + what + " length overflows 32 bits");
      l = static_cast<std::uint32_t>(x);
    }
    return {};
  };
  if (auto st = apply(lengths.inputs, scale.input, "input"); !st.ok()) return st;
  return apply(lengths.outputs, scale.output, "output");
}

namespace {

// Q(p) of a quantile table at probabilities j / (m - 1), piecewise linear.
double quantile_at(std::span<const double> table, double p) {
  const std::size_t m = table.size();
  const double x = std::clamp(p, 0.0, 1.0) * static_cast<double>(m - 1);
  const std::size_t j = std::min(static_cast<std::size_t>(x), m - 2);
  const double t = x - static_cast<double>(j);
  return table[j] + t * (table[j + 1] - table[j]);
}

// F(x): the largest p with Q(p) <= x, by inverting the piecewise-linear Q.
double cdf_at(std::span<const double> table, double x) {
  const std::size_t m = table.size();
  if (x < table.front()) return 0.0;
  if (x >= table.back()) return 1.0;
  // The last segment j with table[j] <= x.
  std::size_t j = static_cast<std::size_t>(std::upper_bound(table.begin(), table.end(), x) - table.begin()) - 1;
  j = std::min(j, m - 2);
  const double a = table[j], b = table[j + 1];
  const double t = b > a ? (x - a) / (b - a) : 1.0;
  return (static_cast<double>(j) + t) / static_cast<double>(m - 1);
}

// Base-2 van der Corput radical inverse of k, in [0, 1).
double van_der_corput(std::uint64_t k) {
  double r = 0.0, f = 0.5;
  while (k > 0) {
    if (k & 1u) r += f;
    k >>= 1u;
    f *= 0.5;
  }
  return r;
}

// A length in (lo, hi] at probability q in [0, 1) of the table's distribution on (lo, hi].
std::uint32_t length_in_bin(std::span<const double> table, std::uint64_t lo, std::uint64_t hi, double q) {
  const double pa = cdf_at(table, static_cast<double>(lo) + 0.5);
  const double pb = cdf_at(table, static_cast<double>(hi) + 0.5);
  double x = static_cast<double>(hi);  // no mass in the table there: the ceiling
  if (pb > pa) x = std::round(quantile_at(table, pa + (pb - pa) * q));
  x = std::clamp(x, static_cast<double>(lo + 1), static_cast<double>(hi));
  return static_cast<std::uint32_t>(x);
}

}  // namespace

RequestLengths lengths_from_default(const workload::DefaultWorkload& w) {
  RequestLengths r;
  for (std::size_t i = 0; i < w.input_edges.size(); ++i) {
    for (std::size_t o = 0; o < w.output_edges.size(); ++o) {
      const std::uint64_t n = w.count(i, o);
      const std::uint64_t ilo = i == 0 ? 0 : w.input_edges[i - 1];
      const std::uint64_t olo = o == 0 ? 0 : w.output_edges[o - 1];
      for (std::uint64_t k = 0; k < n; ++k) {
        const double qi = (static_cast<double>(k) + 0.5) / static_cast<double>(n);
        const double qo = van_der_corput(k + 1);
        r.inputs.push_back(length_in_bin(w.input_quantiles, ilo, w.input_edges[i], qi));
        r.outputs.push_back(length_in_bin(w.output_quantiles, olo, w.output_edges[o], qo));
      }
    }
  }
  return r;
}

Result<WorkloadBins> bin_lengths(const RequestLengths& lengths, const workload::BinningOptions& options,
                                 std::string name, std::string trace) {
  if (lengths.inputs.size() != lengths.outputs.size())
    return make_error(Errc::kInvalidArgument, "input and output length arrays differ in size");
  auto b = workload::bin_requests(lengths.inputs, lengths.outputs, options);
  if (!b.ok()) return b.error();
  return bins_from_binning(*b, std::move(name), std::move(trace));
}

std::vector<std::size_t> bin_index_of_requests(const WorkloadBins& bins, const RequestLengths& lengths) {
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::size_t> index;
  for (std::size_t k = 0; k < bins.bins.size(); ++k) index[{bins.bins[k].input_tokens, bins.bins[k].output_tokens}] = k;
  const bool clamp = bins.policy == workload::OutOfRange::kClamp;
  auto edge_of = [clamp](const std::vector<std::uint64_t>& edges, std::uint64_t l) -> std::optional<std::uint64_t> {
    auto it = std::lower_bound(edges.begin(), edges.end(), l);
    if (it != edges.end()) return *it;
    if (clamp && !edges.empty()) return edges.back();
    return std::nullopt;
  };
  std::vector<std::size_t> out(lengths.inputs.size(), bins.bins.size());
  for (std::size_t r = 0; r < lengths.inputs.size(); ++r) {
    const auto ie = edge_of(bins.input_edges, lengths.inputs[r]);
    const auto oe = edge_of(bins.output_edges, lengths.outputs[r]);
    if (!ie || !oe) continue;
    auto it = index.find({*ie, *oe});
    if (it != index.end()) out[r] = it->second;
  }
  return out;
}

}  // namespace jouleperf::estimate
