#include "jouleperf/workload/bin_draw.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

namespace jouleperf::workload {

namespace {

// A piecewise-linear quantile function through a table of values at evenly spaced
// probabilities 0 .. 1, and its inverse (the CDF).
class QuantileTable {
 public:
  static Result<QuantileTable> make(std::span<const double> table) {
    if (table.size() < 2) return make_error(Errc::kInvalidArgument, "a quantile table needs at least 2 entries");
    for (std::size_t k = 1; k < table.size(); ++k) {
      if (!(table[k] >= table[k - 1])) {
        return make_error(Errc::kInvalidArgument, fmt::format("quantile table decreases at entry {}", k));
      }
    }
    QuantileTable q;
    q.t_.assign(table.begin(), table.end());
    return q;
  }

  // Value at probability p in [0, 1].
  double quantile(double p) const {
    const double x = std::clamp(p, 0.0, 1.0) * static_cast<double>(t_.size() - 1);
    const auto k = std::min(static_cast<std::size_t>(x), t_.size() - 2);
    const double f = x - static_cast<double>(k);
    return t_[k] + f * (t_[k + 1] - t_[k]);
  }

  // Probability of a value <= v (the table's CDF, linear between entries).
  double cdf(double v) const {
    if (v < t_.front()) return 0.0;
    if (v >= t_.back()) return 1.0;
    const auto it = std::upper_bound(t_.begin(), t_.end(), v);  // first entry > v
    const auto k = static_cast<std::size_t>(it - t_.begin()) - 1;
    const double width = t_[k + 1] - t_[k];
    const double f = width > 0.0 ? (v - t_[k]) / width : 1.0;
    return (static_cast<double>(k) + f) / static_cast<double>(t_.size() - 1);
  }

 private:
  std::vector<double> t_;
};

// A length in [lo, hi] (tokens) drawn from the table restricted to that range; uniform
// over the range when the table gives it no probability.
std::uint32_t draw_in(const QuantileTable& q, std::uint64_t lo, std::uint64_t hi, std::mt19937_64& rng) {
  const double p_lo = q.cdf(static_cast<double>(lo) - 0.5);
  const double p_hi = q.cdf(static_cast<double>(hi) + 0.5);
  double v = 0.0;
  if (p_hi > p_lo) {
    std::uniform_real_distribution<double> u(p_lo, p_hi);
    v = std::round(q.quantile(u(rng)));
  } else {
    std::uniform_int_distribution<std::uint64_t> u(lo, hi);
    v = static_cast<double>(u(rng));
  }
  v = std::clamp(v, static_cast<double>(lo), static_cast<double>(hi));
  return static_cast<std::uint32_t>(v);
}

}  // namespace

Result<std::vector<TimedRequest>> draw_requests_in_bins(const DefaultWorkload& w, std::mt19937_64& rng) {
  auto qi = QuantileTable::make(w.input_quantiles);
  if (!qi.ok()) return make_error(Errc::kInvalidArgument, fmt::format("{}: input {}", w.name, qi.error().message));
  auto qo = QuantileTable::make(w.output_quantiles);
  if (!qo.ok()) return make_error(Errc::kInvalidArgument, fmt::format("{}: output {}", w.name, qo.error().message));
  std::vector<TimedRequest> out;
  std::uint64_t total = 0;
  for (auto c : w.counts) total += c;
  out.reserve(total);
  for (std::size_t i = 0; i < w.input_edges.size(); ++i) {
    const std::uint64_t in_lo = i == 0 ? 1 : w.input_edges[i - 1] + 1;
    for (std::size_t o = 0; o < w.output_edges.size(); ++o) {
      const std::uint64_t out_lo = o == 0 ? 1 : w.output_edges[o - 1] + 1;
      for (std::uint64_t n = 0; n < w.count(i, o); ++n) {
        TimedRequest r;
        r.input_tokens = draw_in(*qi, in_lo, w.input_edges[i], rng);
        r.output_tokens = draw_in(*qo, out_lo, w.output_edges[o], rng);
        out.push_back(r);
      }
    }
  }
  return out;
}

std::uint32_t scale_length_down(std::uint32_t tokens, std::uint32_t divisor) {
  if (divisor <= 1) return std::max<std::uint32_t>(tokens, 1);
  const std::uint32_t s = tokens / divisor + (tokens % divisor != 0 ? 1u : 0u);
  return std::max<std::uint32_t>(s, 1);
}

}  // namespace jouleperf::workload
