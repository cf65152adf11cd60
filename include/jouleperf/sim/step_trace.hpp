// The simulator's steps as they happened, for checking energy-per-request attribution
// (docs/serving.md, "Energy per request"): every engine step's span, energy and the
// sequences in it (prompt chunks and decode rows, with their contexts), the idle spans
// between steps, and when each request's tokens came out. A simulation knows all of it
// exactly, so the black-box attribution (token timeline only) can be checked against
// the white-box one (each step split among its sequences). Everything here is simulated.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/result.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::sim {

// One sequence's part in a step.
struct TracedWork {
  std::uint32_t request = 0;  // index into simulate_traced's requests
  bool prefill = false;       // a prompt chunk, or a decode row (one token per beam, gamma + 1 drafts)
  double tokens = 1;          // prompt tokens in the chunk (one entry per copy the prefill makes: beams
                              // without a shared prompt); decode: tokens per row (q x beams)
  double context = 0;         // chunk: prompt tokens already in the cache; decode row: the keys its
                              // token attends to (prompt + tokens generated before it)
};

// One step, or one idle span (no work, the devices at idle power), in simulated seconds.
struct TracedStep {
  double t0_s = 0, t1_s = 0;
  double energy_j = 0;  // all the replica's devices
  std::vector<TracedWork> work;
};

struct StepTrace {
  std::vector<TracedStep> steps;             // steps and idle spans in time order, back to back
  std::vector<std::vector<double>> token_s;  // per request: when each step that gave it tokens ended
};

// simulate() that also records the trace. One replica and continuous batching only
// (kUnsupported otherwise: replicas' steps overlap in time, and a static batch's steps
// are not modelled one by one); else fails as simulate() does. Memory: one entry per
// sequence per step.
Result<SimResult> simulate_traced(const SimConfig& config, std::span<const workload::TimedRequest> requests,
                                  StepTrace& trace);

}  // namespace jouleperf::sim
