#include "jouleperf/workload/lengths.hpp"

#include <algorithm>
#include <cmath>

#include "jouleperf/workload/random.hpp"
#include "jouleperf/workload/stats.hpp"

namespace jouleperf::workload {

Result<EmpiricalLengths> EmpiricalLengths::from_values(std::vector<std::uint32_t> values) {
  if (values.empty()) return make_error(Errc::kInvalidArgument, "an empirical distribution needs at least one length");
  std::sort(values.begin(), values.end());
  EmpiricalLengths e;
  e.values_ = std::move(values);
  return e;
}

Result<EmpiricalLengths> EmpiricalLengths::from_quantiles(std::vector<double> table) {
  if (table.size() < 2) return make_error(Errc::kInvalidArgument, "a quantile table needs at least 2 entries");
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (!std::isfinite(table[i]) || table[i] < 0)
      return make_error(Errc::kInvalidArgument, "quantile table entries must be finite and >= 0");
    if (i > 0 && table[i] < table[i - 1])
      return make_error(Errc::kInvalidArgument, "a quantile table must be non-decreasing");
  }
  EmpiricalLengths e;
  e.table_ = std::move(table);
  return e;
}

std::vector<double> EmpiricalLengths::quantile_table(std::vector<std::uint32_t> values, std::size_t m) {
  std::vector<double> t;
  if (values.empty() || m < 2) return t;
  std::sort(values.begin(), values.end());
  for (std::size_t j = 0; j < m; ++j)
    t.push_back(
        quantile_linear(std::span<const std::uint32_t>(values), static_cast<double>(j) / static_cast<double>(m - 1)));
  return t;
}

std::uint32_t EmpiricalLengths::sample(std::mt19937_64& rng) const {
  const double u = uniform01(rng);
  if (!values_.empty()) {
    const auto i = std::min(values_.size() - 1, static_cast<std::size_t>(u * static_cast<double>(values_.size())));
    return values_[i];
  }
  const double pos = u * static_cast<double>(table_.size() - 1);
  const auto i = std::min(table_.size() - 2, static_cast<std::size_t>(pos));
  const double v = table_[i] + (pos - static_cast<double>(i)) * (table_[i + 1] - table_[i]);
  return static_cast<std::uint32_t>(std::min(std::llround(v), 0xFFFFFFFFll));
}

Result<LogNormal> LogNormal::fit(std::span<const std::uint32_t> values) {
  if (values.empty()) return make_error(Errc::kInvalidArgument, "a log-normal fit needs at least one length");
  double sum = 0.0;
  for (auto v : values) {
    if (v == 0) return make_error(Errc::kInvalidArgument, "a log-normal fit cannot take a length of 0");
    sum += std::log(static_cast<double>(v));
  }
  LogNormal ln;
  ln.mu = sum / static_cast<double>(values.size());
  double m2 = 0.0;
  for (auto v : values) {
    const double d = std::log(static_cast<double>(v)) - ln.mu;
    m2 += d * d;
  }
  ln.sigma = std::sqrt(m2 / static_cast<double>(values.size()));
  return ln;
}

std::uint32_t LogNormal::sample(std::mt19937_64& rng, std::uint32_t max_tokens) const {
  const double v = std::exp(mu + sigma * standard_normal(rng));
  if (!(v < static_cast<double>(max_tokens))) return max_tokens;
  return static_cast<std::uint32_t>(std::max<long long>(1, std::llround(v)));
}

double LogNormal::mean() const { return std::exp(mu + sigma * sigma / 2.0); }

}  // namespace jouleperf::workload
