// Rate sweeps: several open-loop phases at different arrival rates in one run, each
// followed by an idle gap in which nothing is sent (the generator sleeps). With a meter,
// each phase and each gap is its own measured interval ("rate-2", "gap-1", ...), and a
// phase's energy is its active interval plus the idle gap that FOLLOWS it: the power a
// load leaves behind (clocks and fans coming down) is charged to the load that caused it.
// The gap's energy is also reported on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/loadgen.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {

// What to sweep: one phase per rate, fixed lengths, Poisson (or gamma) arrivals.
struct RateSweepSpec {
  std::vector<double> rates_rps;        // each > 0, no repeats (phase names must differ)
  std::optional<double> gamma_cv;       // gamma arrivals with this coefficient of variation; none = Poisson
  std::optional<std::size_t> requests;  // requests per phase (exactly one of requests, duration_s)
  std::optional<double> duration_s;     // per phase: every arrival in [0, duration_s), s
  std::uint64_t input_tokens = 128;
  std::uint64_t output_tokens = 32;
  std::uint64_t seed = 1;  // phase k's arrivals come from seed + k
};

struct RatePhase {
  std::string name;  // "rate-2" ("rate-" and the rate in shortest form, requests/s)
  double rate_rps = 0.0;
  std::vector<ScheduledRequest> schedule;  // at_s from the phase's own origin
};

// Builds the phases. kInvalidArgument: no rates, a rate <= 0 or repeated, neither or
// both of requests / duration_s, a duration <= 0, zero lengths, a bad gamma_cv; a
// duration that draws no arrival at its rate is an error too (nothing to measure).
Result<std::vector<RatePhase>> make_rate_phases(const RateSweepSpec& spec);

struct RateSweepOptions {
  double idle_gap_s = 5.0;  // idle after each phase (the last one too), s; >= 0 (0 = no gaps)
  LoadgenOptions loadgen;   // per phase; its seed is offset by the phase index for the prompts
  // Requests sent before the first phase, at its rate and lengths, evenly spaced, with
  // the prompts of seed loadgen.seed + phases.size(); not metered, not part of any phase
  // (a cold server's first requests — allocation, caches, clocks — stay out of phase 1).
  std::size_t warmup_requests = 0;
};

struct SweepPhaseRun {
  std::string name;
  double rate_rps = 0.0;
  LoadgenRun run;            // the phase: start_s = its origin, end_s = its last request ended
  std::string gap_name;      // "gap-1" ... ("" when idle_gap_s is 0)
  double gap_start_s = 0.0;  // the idle gap after the phase, clock seconds (== end when no gap)
  double gap_end_s = 0.0;
};

struct RateSweepRun {
  double idle_gap_s = 0.0;
  std::optional<LoadgenRun> warmup;  // with warmup_requests > 0
  std::vector<SweepPhaseRun> phases;
};

// Runs the phases in order on one client: each phase waits for its last request to end,
// then the generator sleeps idle_gap_s (no request in flight or sent). With a meter (not
// started) it starts the first phase's interval, then marks each gap and phase; the
// caller stops the meter right after the return (the last gap ends at the return).
// kInvalidArgument for no phases or a gap < 0; other failures as run_open_loop.
Result<RateSweepRun> run_rate_sweep(OpenAiClient& client, std::span<const RatePhase> phases,
                                    const RateSweepOptions& options, const Clock& clock, Meter* meter);

// A phase's energy from the meter's intervals: active + following gap.
struct SweepPhaseEnergy {
  IntervalEnergy active;               // the phase's own interval
  std::optional<IntervalEnergy> gap;   // its idle gap, when there was one
  double energy_j = 0.0;               // active + gap, J
  double uncertainty_j = 0.0;          // sum of both, J
  std::optional<double> above_idle_j;  // active + gap above idle, when both have one
  std::string energy_source;           // the active interval's, or "mixed: a+b" when they differ
  bool estimated = false;              // either interval is estimated
  bool below_resolution = false;       // either interval is shorter than a sensor's resolution
};

// Finds the phase's intervals (by name) in `m`; kNotFound when one is missing.
Result<SweepPhaseEnergy> sweep_phase_energy(const Measurement& m, const SweepPhaseRun& phase);

}  // namespace jouleperf
