// Synthetic workloads: arrivals from a process, lengths from a model, drawn from an
// embedded default workload or from a loaded trace. Seeded and deterministic.
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/workload/arrivals.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/loader.hpp"

namespace jouleperf::workload {

enum class ArrivalProcess {
  kPoisson,  // exponential gaps at the rate
  kGamma,    // gamma gaps with a coefficient of variation
  kReplay,   // the trace's own arrivals (time-scaled, windowed): traces only
};
// "poisson", "gamma", "replay"; kInvalidArgument otherwise.
Result<ArrivalProcess> parse_arrival_process(std::string_view name);

enum class LengthModel {
  kEmpirical,  // a trace: whole requests resampled (input and output stay paired);
               // an embedded workload: its quantile tables, input and output independently
  kLogNormal,  // fitted log-normals, input and output independently
  kBins,       // a bin (I*, O*) drawn with probability N(I*, O*) / sum N: binned lengths, paired
};
// "empirical", "lognormal", "bins"; kInvalidArgument otherwise.
Result<LengthModel> parse_length_model(std::string_view name);

struct SynthesisOptions {
  std::size_t count = 1000;  // requests to draw (replay: at most this many; 0 = all)
  ArrivalProcess arrivals = ArrivalProcess::kPoisson;
  std::optional<double> rate_rps;  // default: the source's own mean rate
  std::optional<double> cv;        // gamma; default: the source's own inter-arrival CV
  LengthModel lengths = LengthModel::kEmpirical;
  ReplayOptions replay;  // kReplay: speed and window
};

// Draws a workload from an embedded default. kInvalidArgument for kReplay (no arrival
// times are embedded) or bad rates.
Result<std::vector<TimedRequest>> synthesize(const DefaultWorkload& source, const SynthesisOptions& options,
                                             std::mt19937_64& rng);

// A trace held in memory as TimedRequests (16 bytes per request).
struct LoadedTrace {
  LoadSummary load;
  std::vector<TimedRequest> requests;  // file order; arrival_s = 0 when the trace has no times
};
// Loads `path` into memory. Fails as load_trace fails.
Result<LoadedTrace> load_timed_requests(const std::string& path, const LoadOptions& options);

// Draws a workload from a loaded trace. kInvalidArgument for an empty trace, kReplay or a
// default rate on a trace without arrival times, or a log-normal fit over zero lengths.
Result<std::vector<TimedRequest>> synthesize(const LoadedTrace& source, const SynthesisOptions& options,
                                             std::mt19937_64& rng);

}  // namespace jouleperf::workload
