// One simulated deployment: a model on a hardware profile under a software stack, with a
// scheduler, a decoding strategy, tensor parallelism and replicas. One plain struct with
// documented defaults (docs/simulator.md, "Serving simulator").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/profile.hpp"
#include "jouleperf/model/flops.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sim/clocks.hpp"
#include "jouleperf/sim/model_costs.hpp"
#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

enum class RouterPolicy {
  kRoundRobin,   // replica i % R
  kLeastLoaded,  // the replica with the fewest requests in flight (ties: the lowest index)
};
// "round-robin" / "least-loaded"; kInvalidArgument otherwise.
Result<RouterPolicy> parse_router(std::string_view s);
std::string_view router_name(RouterPolicy r);

struct DecodingConfig {
  std::uint32_t beam_width = 1;    // beams per request (1 = greedy or sampling)
  std::uint32_t spec_tokens = 0;   // gamma: draft tokens per speculative step; 0 = none
  double spec_acceptance = 0.7;    // alpha: probability that each draft token is accepted
  std::optional<ModelInfo> draft;  // the draft model (required when spec_tokens > 0)
};

// Tokens a speculative step yields on average: (1 - alpha^(gamma+1)) / (1 - alpha)
// (Leviathan et al., ICML 2023), gamma + 1 when alpha = 1, 1 when gamma = 0.
double expected_tokens_per_step(std::uint32_t gamma, double alpha);

struct SimConfig {
  hardware::HardwareProfile hardware;
  SoftwareStack stack;
  ModelInfo model;
  WeightPrecision precision = WeightPrecision::kBf16;
  std::uint32_t tp = 1;        // tensor-parallel devices per replica
  std::uint32_t replicas = 1;  // replicas behind the router
  RouterPolicy router = RouterPolicy::kLeastLoaded;
  Batching batching = Batching::kContinuous;
  std::uint32_t max_batch = 256;      // continuous: max sequences per step; static: batch size
  std::uint32_t token_budget = 8192;  // continuous: max tokens per step (max_num_batched_tokens)
  bool chunked_prefill = true;        // continuous: prompts split to fill the token budget
  double memory_utilization = 0.9;    // share of device memory for weights, KV and workspace
  double static_wait_s = 0.0;         // static: wait up to this long for a full batch
  LogitsMode prefill_logits = LogitsMode::kLast;
  DecodingConfig decoding;
  PowerModel power;
  ClockSettings clocks;            // locked clock and/or power limit per device (clocks.hpp); none by default
  std::size_t timeline_bins = 60;  // utilization over time: this many bins over the arrivals' span
  bool keep_requests = true;       // keep per-request outcomes in the result
  double stop_after_s = 0.0;       // > 0: stop once a replica's clock passes this (overload
                                   // guard); unfinished requests are left out (truncated)
};

// A configuration with the stack's scheduler and the device kind's power model.
SimConfig make_config(const hardware::HardwareProfile& hw, const SoftwareStack& stack, const ModelInfo& model);

// Checks the scheduler and decoding settings (the model/hardware/stack combination is
// checked when the simulation builds its step model). kInvalidArgument naming the
// field; kUnsupported for beam search combined with speculative decoding.
Status validate_config(const SimConfig& c);

}  // namespace jouleperf::sim
