// Online serving against offline batching for the same requests, on an engine that
// serves continuously (Engine::serve), measured whole (idle between requests included):
// the "replay" and "power-trace" documents of a study.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf::study {

struct OnlineOptions {
  std::string config;                // the configuration's name, for the document
  std::string arrivals;              // how arrivals were made, e.g. "Poisson 2 req/s, seed 1"
  ServeOptions online;               // batching and max batch of the online run
  std::uint32_t offline_batch = 8;   // static batch size of the offline run (all at t = 0)
  Slo slo;                           // goodput counts requests within every bound given
  std::optional<IdleBaseline> idle;  // for energy above idle
  std::size_t power_points = 400;    // at most this many points in the power trace
};

struct OnlineComparison {
  nlohmann::json replay;       // kind "replay" (docs/report.md, artifact schema)
  nlohmann::json power_trace;  // kind "power-trace": the online run's power with arrival marks
  // The two runs themselves (for callers that report more than the documents, e.g. replay).
  ServeResult online, offline;
  Measurement online_measurement, offline_measurement;
};

// Serves `requests` online (their arrival times, options.online), then the same requests
// all at t = 0 in static batches of options.offline_batch, each measured by a Meter on
// `sampler` (started, on `clock`). Fails as Engine::serve or the meter fails.
Result<OnlineComparison> online_vs_offline(Engine& engine, Sampler& sampler, const Clock& clock,
                                           const std::vector<ServeRequest>& requests, const OnlineOptions& options);

// Power over [t0_s, t1_s] on the sampler's clock, from the first sensor that counts in
// the total: a counter's successive differences, or the sampled power; thinned to at
// most max_points. Times relative to t0_s.
nlohmann::json power_series(Sampler& sampler, double t0_s, double t1_s, std::size_t max_points);

}  // namespace jouleperf::study
