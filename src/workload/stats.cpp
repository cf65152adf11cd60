#include "jouleperf/workload/stats.hpp"

#include <algorithm>
#include <cmath>

#include "jouleperf/workload/fields.hpp"

namespace jouleperf::workload {

namespace {

template <class T>
double quantile_impl(std::span<const T> x, double q) {
  const std::size_t n = x.size();
  // numpy: virtual_indexes = (n - 1) * quantiles; indexes at or past the last element
  // take the last element.
  const double virtual_index = static_cast<double>(n - 1) * q;
  if (virtual_index >= static_cast<double>(n - 1)) return static_cast<double>(x[n - 1]);
  if (virtual_index <= 0.0) return static_cast<double>(x[0]);
  const double previous = std::floor(virtual_index);
  const auto i = static_cast<std::size_t>(previous);
  const double gamma = virtual_index - previous;
  const double a = static_cast<double>(x[i]);
  const double b = static_cast<double>(x[i + 1]);
  // numpy's _lerp.
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

// Sorts lengths: a counting sort when the largest length is small next to the count
// (token lengths nearly always are), else std::sort.
void sort_lengths(std::vector<std::uint32_t>& v) {
  if (v.empty()) return;
  const std::uint32_t max = *std::max_element(v.begin(), v.end());
  if (max > 4 * v.size() + 65536) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<std::uint32_t> count(static_cast<std::size_t>(max) + 1, 0);
  for (auto x : v) ++count[x];
  std::size_t k = 0;
  for (std::uint64_t value = 0; value <= max; ++value)
    for (std::uint32_t c = count[value]; c > 0; --c) v[k++] = static_cast<std::uint32_t>(value);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

double quantile_linear(std::span<const std::uint32_t> sorted, double q) { return quantile_impl(sorted, q); }
double quantile_linear(std::span<const double> sorted, double q) { return quantile_impl(sorted, q); }

LengthStats summarize_lengths(std::vector<std::uint32_t>& values) {
  LengthStats s;
  s.count = values.size();
  if (values.empty()) return s;
  sort_lengths(values);
  for (auto v : values) s.total += v;
  s.mean = static_cast<double>(s.total) / static_cast<double>(s.count);
  double m2 = 0.0;
  for (auto v : values) {
    const double d = static_cast<double>(v) - s.mean;
    m2 += d * d;
  }
  s.std = std::sqrt(m2 / static_cast<double>(s.count));
  const std::span<const std::uint32_t> sp(values);
  s.median = quantile_linear(sp, 0.5);
  s.p90 = quantile_linear(sp, 0.9);
  s.p99 = quantile_linear(sp, 0.99);
  s.min = values.front();
  s.max = values.back();
  return s;
}

StatsAccumulator::StatsAccumulator(StatsOptions options) : options_(options) {
  bucket_s_ = options_.bucket_s > 0 ? options_.bucket_s : 1.0;
}

void StatsAccumulator::add_to_series(double t_s) {
  const auto key = static_cast<std::int64_t>(std::floor(t_s / bucket_s_));
  if (counts_.empty()) base_bucket_ = key;
  if (key < base_bucket_) {
    counts_.insert(counts_.begin(), static_cast<std::size_t>(base_bucket_ - key), 0);
    base_bucket_ = key;
  }
  const auto idx = static_cast<std::size_t>(key - base_bucket_);
  if (idx >= counts_.size()) counts_.resize(idx + 1, 0);
  ++counts_[idx];
  if (options_.bucket_s > 0) return;
  // Automatic width: coarsen by two until the series fits.
  while (counts_.size() > options_.max_buckets) {
    const std::int64_t new_base = floor_div(base_bucket_, 2);
    std::vector<std::uint64_t> merged(
        static_cast<std::size_t>(floor_div(base_bucket_ + static_cast<std::int64_t>(counts_.size()) - 1, 2) - new_base +
                                 1),
        0);
    for (std::size_t i = 0; i < counts_.size(); ++i)
      merged[static_cast<std::size_t>(floor_div(base_bucket_ + static_cast<std::int64_t>(i), 2) - new_base)] +=
          counts_[i];
    counts_ = std::move(merged);
    base_bucket_ = new_base;
    bucket_s_ *= 2;
  }
}

void StatsAccumulator::add(const Request& r) {
  inputs_.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(r.input_tokens, kMaxTokenCount)));
  outputs_.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(r.output_tokens, kMaxTokenCount)));
  if (!r.arrival_s) return;
  const double t = *r.arrival_s;
  if (timed_ == 0) {
    first_ = last_ = t;
  } else {
    first_ = std::min(first_, t);
    last_ = std::max(last_, t);
    if (t < prev_) in_order_ = false;
    if (in_order_) {
      const double gap = t - prev_;
      ++gaps_;
      const double d = gap - gap_mean_;
      gap_mean_ += d / static_cast<double>(gaps_);
      gap_m2_ += d * (gap - gap_mean_);
    }
  }
  prev_ = t;
  ++timed_;
  add_to_series(t);
}

TraceStats StatsAccumulator::finish(LoadSummary load, std::vector<double>* all_arrivals) {
  TraceStats out;
  out.load = std::move(load);
  out.requests = inputs_.size();
  if (inputs_.empty()) return out;
  out.input = summarize_lengths(inputs_);
  out.output = summarize_lengths(outputs_);
  if (timed_ == 0) return out;
  ArrivalStats a;
  a.first_s = first_;
  a.last_s = last_;
  a.duration_s = last_ - first_;
  a.rate_rps = a.duration_s > 0 ? static_cast<double>(timed_) / a.duration_s : 0.0;
  a.in_file_order = in_order_;
  std::uint64_t gaps = gaps_;
  double gap_mean = gap_mean_, gap_m2 = gap_m2_;
  if (!in_order_) {
    gaps = 0;
    if (all_arrivals != nullptr && all_arrivals->size() == timed_) {
      std::sort(all_arrivals->begin(), all_arrivals->end());
      gap_mean = gap_m2 = 0.0;
      for (std::size_t i = 1; i < all_arrivals->size(); ++i) {
        const double gap = (*all_arrivals)[i] - (*all_arrivals)[i - 1];
        ++gaps;
        const double d = gap - gap_mean;
        gap_mean += d / static_cast<double>(gaps);
        gap_m2 += d * (gap - gap_mean);
      }
    }
  }
  if (gaps > 0) {
    a.interarrival_mean_s = gap_mean;
    a.interarrival_std_s = std::sqrt(gap_m2 / static_cast<double>(gaps));
    if (gap_mean > 0) a.interarrival_cv = *a.interarrival_std_s / gap_mean;
  }
  a.bucket_s = bucket_s_;
  a.series_start_s = static_cast<double>(base_bucket_) * bucket_s_;
  a.counts = counts_;
  for (auto c : counts_) a.peak_rps = std::max(a.peak_rps, static_cast<double>(c) / bucket_s_);
  out.arrivals = std::move(a);
  return out;
}

Result<TraceStats> compute_trace_stats(const std::string& path, const LoadOptions& load_options,
                                       const StatsOptions& stats_options) {
  StatsAccumulator acc(stats_options);
  auto sum = load_trace(path, load_options, [&acc](const Request& r) { acc.add(r); });
  if (!sum.ok()) return sum.error();
  if (acc.arrivals_in_order()) return acc.finish(std::move(*sum));
  std::vector<double> arrivals;
  arrivals.reserve(sum->requests);
  auto again = load_trace(path, load_options, [&arrivals](const Request& r) {
    if (r.arrival_s) arrivals.push_back(*r.arrival_s);
  });
  if (!again.ok()) return again.error();
  return acc.finish(std::move(*sum), &arrivals);
}

}  // namespace jouleperf::workload
