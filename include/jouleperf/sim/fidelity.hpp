// The simulator against a file of steady-state serving measurements (docs/fidelity.md):
// the inputs (rows, the stack and power model compared) and the comparison as tables and
// as the document `fidelity -o json` prints and a study stores as its "fidelity" artifact.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sim/power.hpp"
#include "jouleperf/sim/serving_fit.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf::sim {

// A measurements file, the stack and power model to compare (a named stack, or a file
// `calibrate --save` wrote), and the prompt length assumed for rows without avg_input_tokens.
struct ServingOptions {
  std::string measurements;           // CSV path (ML.ENERGY-style columns)
  std::vector<std::string> profiles;  // JSON files of user hardware profiles
  std::string stack = "vllm";
  std::string stack_file;                                   // replaces `stack` when set
  double assume_input_tokens = kDefaultAssumedInputTokens;  // tokens
  // ML.ENERGY v3 does not publish prompt lengths. 400: with 397 output tokens on average,
  // the B=768 run's mean batch of 690.9 (held down by vLLM's KV cache, 0.9 of 80 GB less
  // 16 GB of weights) leaves room for about 400 prompt tokens per sequence
  // (docs/fidelity.md, "Measurement files").
  static constexpr double kDefaultAssumedInputTokens = 400.0;
};

struct ServingInputs {
  std::vector<ServingCase> cases;
  SoftwareStack stack;           // the named stack or the stack file's
  PowerModel power;              // the GPU default, with the stack file's power over it
  std::size_t assumed_rows = 0;  // rows that took assume_input_tokens
};
// Reads the file and builds every row's configuration. kInvalidArgument without a file,
// for an unknown or CPU stack, or more GPUs than the profile allows; errors name the
// file, line and field.
Result<ServingInputs> load_serving_inputs(const ServingOptions& o);

// The comparison: per-row and error tables (sim/serving_tables.hpp), the assumption line
// and the JSON document.
struct FidelityCheck {
  table::Table rows;       // serving_table, named "fidelity"
  table::Table errors;     // serving_error_table, named "fidelity_errors"
  std::string assumption;  // "N of M rows carry no prompt length: assumed ..." or ""
  nlohmann::json document;
};
// Fails as load_serving_inputs and compare_serving fail (file, line and field named).
Result<FidelityCheck> check_fidelity(const ServingOptions& o);

// What `fidelity` prints: the two tables, the assumption and the SIMULATED label; its
// JSON is FidelityCheck::document.
table::Document fidelity_document(const FidelityCheck& check);

}  // namespace jouleperf::sim
