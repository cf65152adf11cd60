// Arrival processes: Poisson, gamma (bursty, with a coefficient of variation) and trace
// replay with time scaling and a window. Seeded and deterministic.
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::workload {

// The most requests drawn or synthesized at once (docs/workloads.md, "Limits"): 10
// million, about 0.3 GB of arrival times and request records. Larger counts are refused
// with kInvalidArgument before anything is allocated.
inline constexpr std::size_t kMaxRequests = 10'000'000;

// kInvalidArgument naming `what` when count > kMaxRequests.
Status check_request_count(std::size_t count, std::string_view what);

// Arrival times (s, ascending, the first one gap after 0) of `count` requests of a
// Poisson process at rate_rps. kInvalidArgument unless rate_rps is finite and > 0 and
// count <= kMaxRequests.
Result<std::vector<double>> poisson_arrivals(double rate_rps, std::size_t count, std::mt19937_64& rng);

// A gamma renewal process at rate_rps: gaps ~ Gamma(k = 1/cv^2, theta = 1/(rate_rps*k)),
// so the mean gap is 1/rate_rps and the gaps' coefficient of variation is cv (1 = Poisson,
// > 1 bursty, < 1 regular). kInvalidArgument unless both are finite and > 0 and
// count <= kMaxRequests.
Result<std::vector<double>> gamma_arrivals(double rate_rps, double cv, std::size_t count, std::mt19937_64& rng);

struct ReplayOptions {
  double speed = 1.0;            // time compression: 2 replays twice as fast
  std::optional<double> from_s;  // keep arrivals >= from_s (trace time, s)
  std::optional<double> to_s;    // keep arrivals < to_s
};

// A trace's requests replayed: those in the window, sorted by arrival, shifted so the
// window starts at 0 (from_s, or the first arrival kept) and divided by speed.
// kInvalidArgument for speed <= 0 or an empty window (to_s <= from_s).
Result<std::vector<TimedRequest>> replay(std::span<const TimedRequest> trace, const ReplayOptions& options);

}  // namespace jouleperf::workload
