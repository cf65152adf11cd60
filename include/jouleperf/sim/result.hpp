// What a simulation returns: per-request latencies and energy, totals, idle share and
// utilization over time. Every figure is simulated (SimResult::simulated is always true).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace jouleperf::sim {

// One request's outcome. NaN fields: not applicable (tpot of a one-token request) or the
// request was rejected (it can never fit the KV cache or the model's context).
struct RequestOutcome {
  float ttft_s = 0;    // arrival to first token, s
  float tpot_s = 0;    // mean time per output token after the first, s
  float e2e_s = 0;     // arrival to the response (static batching: the batch's end), s
  float energy_j = 0;  // energy of the steps it took part in, split by token share, J
};

struct LatencySummary {
  std::uint64_t count = 0;                              // requests with a value
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;  // s
};

// Utilization over time: one bin of the simulated span, over all replicas.
struct TimelineBin {
  double start_s = 0;
  double duration_s = 0;
  double busy_share = 0;    // share of device-time with a step running
  double power_w = 0;       // mean power of all devices, W
  double compute_util = 0;  // mean share of peak matrix throughput while busy
  double memory_util = 0;   // mean share of peak bandwidth while busy
  double mean_batch = 0;    // mean sequences per step while busy
};

struct SimResult {
  bool simulated = true;    // always: nothing here was measured
  std::string description;  // "Llama-3.1-8B on 1 x h100-sxm (tp 1) under vllm, continuous ..."

  std::uint64_t requests = 0;  // in the workload
  std::uint64_t completed = 0;
  std::uint64_t rejected = 0;        // longer than the KV capacity or the model's context
  bool truncated = false;            // stopped at SimConfig::stop_after_s with requests unfinished
  std::uint64_t preemptions = 0;     // sequences evicted (recomputed) when the KV cache was full
  std::uint64_t peak_sequences = 0;  // most sequences in one step (static: in one batch)
  bool kv_limited = false;           // the KV capacity held a request back or preempted one
  std::uint64_t steps = 0;           // engine iterations (all replicas; draft forwards not counted)
  std::uint64_t events = 0;          // arrivals + steps + completions
  std::uint64_t input_tokens = 0;    // of completed requests
  std::uint64_t output_tokens = 0;   // of completed requests

  double devices = 0;                    // tp * replicas
  double span_s = 0;                     // 0 to the last completion
  double energy_j = 0;                   // all devices over the span, idle included
  double active_energy_j = 0;            // during steps
  double idle_energy_j = 0;              // between steps (idle power)
  double idle_share = 0;                 // idle_energy_j / energy_j
  double busy_share = 0;                 // share of device-time with a step running
  double energy_per_request_j = 0;       // energy_j / completed
  double energy_per_output_token_j = 0;  // energy_j / output tokens
  double energy_per_token_j = 0;         // energy_j / (input + output tokens)
  double throughput_rps = 0;             // completed / span_s
  double output_tokens_per_s = 0;
  double mean_power_w = 0;  // energy_j / span_s
  double mean_batch = 0;    // sequences per step, time-weighted over busy time

  double simulated_flops = 0;       // FLOPs the steps computed (padding, drafts, beams included)
  double request_flops = 0;         // sum of request_flops(I, O) over completed requests
  double flops_ideal_energy_j = 0;  // TDP / peak * request_flops (DESIGN.md 1.5)
  double kv_capacity_tokens = 0;    // per replica

  LatencySummary ttft, tpot, e2e;
  std::vector<TimelineBin> timeline;
  std::vector<RequestOutcome> per_request;  // in workload order (empty unless kept)
};

}  // namespace jouleperf::sim
