// JSON form of simulation configurations and results (`simulate --json`, `optimize`).
// Every object carries "simulated": true.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/result.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

// {"hardware","stack","model","precision","tp","replicas","router","batching","max_batch",
//  "token_budget","chunked_prefill","memory_utilization","static_wait_s","beam_width",
//  "spec_tokens","spec_acceptance","draft","power":{"active_floor","memory_weight","exponent"}}
nlohmann::json to_json(const SimConfig& c);

// {"simulated":true,"description",counts...,energies (J)...,"ttft"/"tpot"/"e2e":{"count",
//  "mean","p50","p90","p99","max"} (s),"timeline":[{"start_s","duration_s","busy_share",
//  "power_w","compute_util","memory_util","mean_batch"}]} and, with per_request,
//  "per_request":[{"ttft_s","tpot_s","e2e_s","energy_j"}] (null for n/a).
nlohmann::json to_json(const SimResult& r, bool per_request = false);

// Every parameter of a stack, with its rationale.
nlohmann::json to_json(const SoftwareStack& s);

}  // namespace jouleperf::sim
