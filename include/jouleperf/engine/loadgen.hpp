// The open-loop load generator: sends streamed requests to an OpenAI-compatible server
// on a fixed schedule (Poisson/gamma arrivals or a replayed trace) whatever the server
// does, so a slow server does not slow the schedule (no coordinated omission). Each
// send's lateness against its schedule is measured; with a concurrency cap a request
// waits for a free slot and that wait shows as lateness. One thread, libcurl multi.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {

struct ScheduledRequest {
  double at_s = 0.0;  // send time, seconds after the start of the run
  std::uint64_t input_tokens = 1;
  std::uint64_t output_tokens = 1;
};

struct LoadgenOptions {
  std::optional<std::size_t> max_concurrency;  // requests in flight at most; none = unbounded
  std::uint64_t seed = 1;                      // prompt token ids of request i come from (seed, i)
  double spin_s = 100e-6;              // the last stretch before a send is polled without sleeping (kernel wake-ups are
                                       // up to the timer slack, 50 us, late), s; [0, 1)
  std::string meter_phase = "replay";  // the meter phase that begins at the schedule's origin
  bool meter_started = false;          // the meter already runs: mark meter_phase instead of starting it
};

struct LoadgenRequest {
  OpenAiResult result;     // times on the run's clock
  double scheduled_s = 0;  // absolute time it was due (clock seconds)
  double lateness_s = 0;   // send_s - scheduled_s (>= 0 up to clock resolution)
};

struct LoadgenRun {
  double start_s = 0.0;                  // schedule origin, clock seconds
  double end_s = 0.0;                    // the last request ended
  std::vector<LoadgenRequest> requests;  // in schedule order
};

// Runs the schedule (sorted by at_s; kInvalidArgument otherwise or when empty). With a
// meter (not started) it starts phase options.meter_phase ("replay") at the origin; with
// options.meter_started it marks that phase on the running meter instead. The caller
// stops the meter.
// Request faults are recorded per request; the run itself fails only on setup errors.
Result<LoadgenRun> run_open_loop(OpenAiClient& client, std::span<const ScheduledRequest> schedule,
                                 const LoadgenOptions& options, const Clock& clock, Meter* meter);

// A service-level objective; a request meets it when it succeeded and every set bound holds.
struct Slo {
  std::optional<double> ttft_s;
  std::optional<double> tpot_s;
  std::optional<double> e2e_s;
};
// "ttft=0.5,tpot=0.05[,e2e=10]" (seconds); kInvalidArgument for unknown keys or bad numbers.
Result<Slo> parse_slo(std::string_view text);

struct Percentiles {
  std::size_t n = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
// Linear-interpolated percentiles (numpy's default) of `values`; zeros when empty.
Percentiles percentiles(std::vector<double> values);

struct LoadgenSummary {
  std::size_t requests = 0, ok = 0, failed = 0, mismatched = 0;
  double duration_s = 0;            // start to the last end
  double throughput_rps = 0;        // successful requests / duration_s
  double output_tokens_per_s = 0;   // tokens of successful requests / duration_s
  std::uint64_t output_tokens = 0;  // of successful requests
  std::uint64_t input_tokens = 0;
  Percentiles ttft_s, tpot_s, itl_s, e2e_s;  // successful requests only
  Percentiles lateness_s;                    // every send
  std::size_t slo_met = 0;                   // successful requests meeting the SLO
  double goodput_rps = 0;                    // slo_met / duration_s
};
LoadgenSummary summarize_load(const LoadgenRun& run, const Slo& slo);

// A run served through Engine::serve (any engine) in the load generator's shape, so every
// engine's run shares one summary and one record: request i is tagged i, with its
// status, error, server-reported counts and mismatch as the engine gave them, sent at
// arrival + lateness (in-process engines: lateness 0, their wait is the queue,
// admitted_s - arrival_s), and, when the engine noted none, a mismatch noted for a
// successful request that made other than the output tokens asked. `requests` are the
// ones given to serve().
LoadgenRun served_as_loadgen_run(const ServeResult& served, const std::vector<ServeRequest>& requests);

}  // namespace jouleperf
