// Length models for synthetic workloads: a trace's empirical distribution and a fitted
// log-normal.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf::workload {

// An empirical length distribution. Built from all values it resamples them exactly
// (each observed length with its observed frequency); built from a quantile table
// (values at probabilities 0, 1/(m-1), ..., 1) it samples the piecewise-linear inverse
// CDF through the table, rounded to the nearest token.
class EmpiricalLengths {
 public:
  // kInvalidArgument when `values` is empty.
  static Result<EmpiricalLengths> from_values(std::vector<std::uint32_t> values);
  // kInvalidArgument for fewer than 2 entries, a decreasing or negative table.
  static Result<EmpiricalLengths> from_quantiles(std::vector<double> table);
  // numpy-linear quantiles of `values` at m evenly spaced probabilities (m >= 2).
  static std::vector<double> quantile_table(std::vector<std::uint32_t> values, std::size_t m);

  std::uint32_t sample(std::mt19937_64& rng) const;

 private:
  std::vector<std::uint32_t> values_;  // sorted (from_values)
  std::vector<double> table_;          // quantile table (from_quantiles)
};

// A log-normal length model: ln(length) ~ Normal(mu, sigma).
struct LogNormal {
  double mu = 0.0;     // mean of ln(tokens)
  double sigma = 0.0;  // population std of ln(tokens)

  // Maximum-likelihood fit (mean and population std of the logs). kInvalidArgument for
  // no values or a zero length (no logarithm).
  static Result<LogNormal> fit(std::span<const std::uint32_t> values);
  // round(exp(mu + sigma * z)), clamped to [1, max_tokens].
  std::uint32_t sample(std::mt19937_64& rng, std::uint32_t max_tokens = 0xFFFFFFFFu) const;
  // Mean of the distribution, exp(mu + sigma^2 / 2), tokens.
  double mean() const;
};

}  // namespace jouleperf::workload
