// The discrete-event serving simulator: requests arrive (trace or process), a router
// sends each to a replica, a scheduler forms engine iterations (static batches as HF
// generate, or continuous batching as vLLM with a token budget, chunked prefill and a
// KV-cache capacity with preemption), and the per-iteration model prices every step.
#pragma once

#include <cstdint>
#include <span>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/result.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::sim {

// Simulates serving `requests` (any order; arrival_s in seconds from 0, lengths in
// tokens; an input of 0 counts as 1). Fails with kInvalidArgument / kUnsupported when the
// configuration is invalid or the model does not fit the devices; never for a request:
// a request that can never fit is counted as rejected.
Result<SimResult> simulate(const SimConfig& config, std::span<const workload::TimedRequest> requests);

// One controlled batch, as the paper's measurements run it: `batch` requests of exactly
// `input` prompt and `output` generated tokens, all present at t = 0 on one replica with
// max_batch raised to `batch`. The engine adapter's `run` maps onto this.
struct BatchRun {
  double duration_s = 0;  // first step to last token
  double energy_j = 0;    // all devices, idle excluded (no idle inside a batch)
  double prefill_s = 0;   // until every request has its first token
  double ttft_mean_s = 0;
  double tpot_mean_s = 0;
  double energy_per_request_j = 0;
  double flops_ideal_energy_j = 0;  // TDP / peak * batch * request_flops(input, output)
  std::uint64_t steps = 0;
  bool fits = true;  // false: the batch's KV cache exceeds the capacity (nothing run)
  SimResult detail;  // the full simulation
};

// kInvalidArgument for batch, input or output of 0, or as simulate() fails.
Result<BatchRun> simulate_batch(const SimConfig& config, std::uint32_t input, std::uint32_t output,
                                std::uint32_t batch);

}  // namespace jouleperf::sim
