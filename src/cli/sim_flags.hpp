// Flags shared by `simulate` and `optimize`: the deployment (hardware, stack, model,
// scheduler, decoding) and the workload (trace, embedded workload, Poisson process).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/report/serving_tables.hpp"
#include "jouleperf/report/table.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/serving_fit.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::cli {

struct WorkloadFlags {
  std::string trace;     // a trace file (its own arrival times, or --poisson)
  std::string workload;  // an embedded workload name
  double poisson_rps = 0;
  CLI::Option* poisson_opt = nullptr;
  std::size_t count = 0;  // 0: the source's own count (embedded) / all rows (trace)
  std::uint64_t seed = 1;
  std::string lengths = "empirical";
  std::uint32_t input = 0, output = 0;  // fixed lengths for --poisson without a source
  double speed = 1.0;                   // trace replay time compression
};

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f);

// The requests the flags describe and one line saying where they come from.
// kInvalidArgument for contradictory or missing flags; loader errors as they come.
Result<std::vector<workload::TimedRequest>> load_workload(const WorkloadFlags& f, std::string& description);

// A built-in architecture name, or a path to a GGUF file.
Result<ModelInfo> resolve_model(const std::string& name_or_path);

struct DeploymentFlags {
  std::vector<std::string> profiles;
  std::string hardware;
  std::string stack = "vllm";
  std::string stack_file;  // a stack (and power model) written by `jouleperf calibrate -o`; replaces --stack
  std::string model = "Llama-3.1-8B";
  std::string precision = "bf16";
  std::uint32_t tp = 1, replicas = 1;
  std::string router = "least-loaded";
  std::string batching;  // default: the stack's
  std::uint32_t max_batch = 256, token_budget = 0;
  bool no_chunked_prefill = false;
  double memory_utilization = 0.9;
  double static_wait_s = 0;
  std::uint32_t beam = 1, spec_tokens = 0;
  double spec_acceptance = 0.7;
  std::string draft = "Llama-3.2-1B";
  std::size_t timeline_bins = 60;
};

// `hardware_required`: optimize searches hardware itself and only takes --profiles.
void add_deployment_flags(CLI::App* cmd, DeploymentFlags& f, bool hardware_required);

// The registry with the flags' profile files loaded.
Result<hardware::HardwareRegistry> load_registry(const DeploymentFlags& f);

// The configuration the flags describe (hardware looked up in `registry`).
Result<sim::SimConfig> to_sim_config(const DeploymentFlags& f, const hardware::HardwareRegistry& registry);

// Flags of `calibrate --measurements` and `fidelity`: a measurements file (docs/fidelity.md),
// the stack and power model to compare (a named stack, or a file `calibrate -o` wrote),
// and the prompt length assumed for rows without avg_input_tokens.
struct ServingFlags {
  std::string measurements;
  std::vector<std::string> profiles;
  std::string stack = "vllm";
  std::string stack_file;
  double assume_input_tokens = kDefaultAssumedInputTokens;
  // ML.ENERGY v3 does not publish prompt lengths. 400: with 397 output tokens on average,
  // the B=768 run's mean batch of 690.9 (held down by vLLM's KV cache, 0.9 of 80 GB less
  // 16 GB of weights) leaves room for about 400 prompt tokens per sequence
  // (docs/fidelity.md, "Measurement files").
  static constexpr double kDefaultAssumedInputTokens = 400.0;
};
// `stack_flags`: also --stack, --stack-file and --profiles (calibrate has its own).
void add_serving_flags(CLI::App* cmd, ServingFlags& f, bool stack_flags);

struct ServingInputs {
  std::vector<sim::ServingCase> cases;
  sim::SoftwareStack stack;      // the named stack or the stack file's
  sim::PowerModel power;         // the GPU default, with the stack file's power over it
  std::size_t assumed_rows = 0;  // rows that took --assume-input-tokens
};
// Reads the file and builds every row's configuration. Errors name the file, line and field.
Result<ServingInputs> load_serving_inputs(const ServingFlags& f);

// `fidelity` on the flags' file and stack: the comparison as tables (report/serving_tables.hpp)
// and the document `fidelity --json` prints and a study stores as its "fidelity" artifact.
struct FidelityCheck {
  report::Table rows;      // serving_table
  report::Table errors;    // serving_error_table
  std::string assumption;  // "N of M rows carry no prompt length: assumed ..." or ""
  nlohmann::json document;
};
// Fails as load_serving_inputs and sim::compare_serving fail (file, line and field named).
Result<FidelityCheck> check_fidelity(const ServingFlags& f);

// "12.3 kJ", "4.56 MJ": joules with an SI prefix.
std::string format_joules(double j);

}  // namespace jouleperf::cli
