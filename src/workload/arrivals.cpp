#include "jouleperf/workload/arrivals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jouleperf/workload/random.hpp"

namespace jouleperf::workload {

Status check_request_count(std::size_t count, std::string_view what) {
  if (count > kMaxRequests)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: {} requests is more than the limit of {} (docs/workloads.md, Limits)", what,
                                  count, kMaxRequests));
  return {};
}

Result<std::vector<double>> poisson_arrivals(double rate_rps, std::size_t count, std::mt19937_64& rng) {
  if (auto st = check_request_count(count, "Poisson arrivals"); !st) return st.error();
  if (!(rate_rps > 0) || !std::isfinite(rate_rps))
    return make_error(Errc::kInvalidArgument, "arrival rate must be a positive number of requests per second");
  std::vector<double> t(count);
  double now = 0.0;
  for (auto& x : t) x = now += exponential(rng, rate_rps);
  return t;
}

Result<std::vector<double>> gamma_arrivals(double rate_rps, double cv, std::size_t count, std::mt19937_64& rng) {
  if (auto st = check_request_count(count, "gamma arrivals"); !st) return st.error();
  if (!(rate_rps > 0) || !std::isfinite(rate_rps))
    return make_error(Errc::kInvalidArgument, "arrival rate must be a positive number of requests per second");
  if (!(cv > 0) || !std::isfinite(cv))
    return make_error(Errc::kInvalidArgument, "the coefficient of variation must be positive");
  const double shape = 1.0 / (cv * cv);
  const double scale = 1.0 / (rate_rps * shape);
  std::vector<double> t(count);
  double now = 0.0;
  for (auto& x : t) x = now += gamma_variate(rng, shape, scale);
  return t;
}

Result<std::vector<TimedRequest>> replay(std::span<const TimedRequest> trace, const ReplayOptions& o) {
  if (!(o.speed > 0) || !std::isfinite(o.speed))
    return make_error(Errc::kInvalidArgument, "replay speed must be positive");
  if (o.from_s && o.to_s && *o.to_s <= *o.from_s)
    return make_error(Errc::kInvalidArgument, "the replay window is empty (--to <= --from)");
  std::vector<TimedRequest> out;
  for (const auto& r : trace) {
    if (o.from_s && r.arrival_s < *o.from_s) continue;
    if (o.to_s && r.arrival_s >= *o.to_s) continue;
    out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TimedRequest& a, const TimedRequest& b) { return a.arrival_s < b.arrival_s; });
  const double start = o.from_s ? *o.from_s : (out.empty() ? 0.0 : out.front().arrival_s);
  for (auto& r : out) r.arrival_s = (r.arrival_s - start) / o.speed;
  return out;
}

}  // namespace jouleperf::workload
