// Trace statistics: the paper's Tables 1-2 for any trace (length distributions,
// duration, arrival rate, burstiness) and a requests-per-second series for a chart.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/loader.hpp"

namespace jouleperf::workload {

// numpy.quantile(values, q) with numpy's default method ("linear": the virtual index
// (n-1)*q, interpolated between the closest ranks with numpy's _lerp, which computes
// from the upper neighbour when the fraction is >= 0.5). `sorted` must be ascending and
// non-empty; q in [0, 1]. The result equals numpy's to the last bit.
double quantile_linear(std::span<const std::uint32_t> sorted, double q);
double quantile_linear(std::span<const double> sorted, double q);

struct LengthStats {
  std::uint64_t count = 0;
  double mean = 0.0;    // tokens
  double std = 0.0;     // population standard deviation (numpy.std, ddof=0), tokens
  double median = 0.0;  // numpy linear quantiles, tokens
  double p90 = 0.0;
  double p99 = 0.0;
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  std::uint64_t total = 0;  // sum of lengths, tokens
};

// Summary of a non-empty set of lengths; sorts `values` in place.
LengthStats summarize_lengths(std::vector<std::uint32_t>& values);

struct ArrivalStats {
  double first_s = 0.0;                       // earliest arrival, s since the trace's first timed row
  double last_s = 0.0;                        // latest arrival, s
  double duration_s = 0.0;                    // last_s - first_s
  double rate_rps = 0.0;                      // requests / duration_s (0 when duration_s is 0)
  std::optional<double> interarrival_mean_s;  // mean gap between consecutive arrivals (>= 2 requests)
  std::optional<double> interarrival_std_s;   // population std of the gaps
  std::optional<double> interarrival_cv;      // std / mean: 1 for Poisson, > 1 bursty
  bool in_file_order = true;                  // false: rows were out of time order and gaps were taken after sorting
  double bucket_s = 1.0;                      // width of the series buckets, s
  double series_start_s = 0.0;                // start of the first bucket, s
  std::vector<std::uint64_t> counts;          // requests per bucket (rps = count / bucket_s)
  double peak_rps = 0.0;                      // largest bucket rate
};

struct TraceStats {
  LoadSummary load;
  std::uint64_t requests = 0;
  std::optional<LengthStats> input;  // empty when there are no requests
  std::optional<LengthStats> output;
  std::optional<ArrivalStats> arrivals;  // empty for a trace without times or without requests
};

struct StatsOptions {
  // Width of the requests-per-second series buckets, s. 0 = automatic: start at 1 s and
  // double the width whenever the series would exceed max_buckets buckets.
  double bucket_s = 0.0;
  std::size_t max_buckets = 10000;
};

// Collects statistics one request at a time. Memory: 8 bytes per request (two 32-bit
// lengths, kept for exact percentiles) plus the rate series; arrivals are summarized
// on the fly when they come in time order.
class StatsAccumulator {
 public:
  explicit StatsAccumulator(StatsOptions options = {});
  void add(const Request& request);
  // False when some arrival came earlier than the one before it; finish() then needs
  // every arrival time to compute the gaps.
  bool arrivals_in_order() const { return in_order_; }
  // The statistics. When arrivals were out of order, pass all arrival times (any order;
  // sorted in place) as `all_arrivals`; without them the gap statistics stay empty.
  TraceStats finish(LoadSummary load, std::vector<double>* all_arrivals = nullptr);

 private:
  void add_to_series(double t_s);

  StatsOptions options_;
  std::vector<std::uint32_t> inputs_;
  std::vector<std::uint32_t> outputs_;
  std::uint64_t timed_ = 0;
  double first_ = 0.0, last_ = 0.0, prev_ = 0.0;
  bool in_order_ = true;
  std::uint64_t gaps_ = 0;
  double gap_mean_ = 0.0, gap_m2_ = 0.0;  // Welford
  double bucket_s_ = 1.0;
  std::int64_t base_bucket_ = 0;
  std::vector<std::uint64_t> counts_;
};

// Loads the trace at `path` and computes its statistics. When the file's rows are out
// of time order it is read a second time to collect the arrival times (8 more bytes per
// request) so the gaps are those of the sorted arrivals. Fails as load_trace fails.
Result<TraceStats> compute_trace_stats(const std::string& path, const LoadOptions& load_options,
                                       const StatsOptions& stats_options = {});

}  // namespace jouleperf::workload
