// What `simulate` prints, as one Document (core/output.hpp): the SIMULATED banner, a
// summary of quantities with units in their names, the latency percentiles and the
// utilization timeline; the JSON is the simulator's own (result_json.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/result.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

// The line every simulated figure carries.
inline constexpr const char* kSimulatedBanner =
    "SIMULATED — a model, not a measurement (docs/simulator.md; unvalidated on GPUs)";

// A whole simulated run: tables "summary" (quantity, value), "latency" (one row each for
// TTFT, TPOT, e2e, in seconds) and "timeline"; JSON = to_json(r, per_request) with
// "config" and "workload".
table::Document simulate_document(const SimResult& r, const SimConfig& config, const std::string& workload,
                                  bool per_request);

// One controlled batch (simulate_batch): a "batch" summary table, or when it does not fit
// the KV cache a footer saying so; JSON as `simulate --batch --json` has always printed.
table::Document batch_document(const BatchRun& b, const SimConfig& config, std::uint32_t batch,
                               std::uint32_t input_tokens, std::uint32_t output_tokens, bool per_request);

// The named software stacks: one row each with their parameters, fit and rationale.
table::Document stacks_document(const std::vector<SoftwareStack>& stacks);

}  // namespace jouleperf::sim
