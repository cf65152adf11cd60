// What a simulator run is given, as plain settings (the CLI binds its flags to these
// fields): the workload (a trace, an embedded workload or a Poisson process) and the
// deployment (hardware, stack, model, scheduler, decoding), and the functions that turn
// them into requests and a SimConfig. Shared by simulate, optimize and validate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sim/config.hpp"
#include "jouleperf/workload/request.hpp"

namespace jouleperf::sim {

struct WorkloadSource {
  std::string trace;                    // a trace file (its own arrival times, or poisson_rps)
  std::string workload;                 // an embedded workload name
  std::optional<double> poisson_rps;    // Poisson arrivals at this rate, req/s
  std::size_t count = 0;                // 0: the source's own count (embedded) / all rows (trace)
  std::uint64_t seed = 1;               // random seed
  std::string lengths = "empirical";    // empirical | lognormal | bins
  std::uint32_t input = 0, output = 0;  // fixed lengths for Poisson without a source, tokens
  double speed = 1.0;                   // trace replay time compression
};

// The requests `w` describes and one line saying where they come from (`description`).
// kInvalidArgument for contradictory or missing settings (trace and workload both, a trace
// without arrival times and no rate, Poisson without lengths); loader errors as they come.
Result<std::vector<workload::TimedRequest>> load_workload(const WorkloadSource& w, std::string& description);

// A built-in architecture name, or a path to a GGUF file; kInvalidArgument naming both.
Result<ModelInfo> resolve_model(const std::string& name_or_path);

struct DeploymentOptions {
  std::vector<std::string> profiles;  // JSON files of user hardware profiles
  std::string hardware;               // profile name
  std::string stack = "vllm";
  std::string stack_file;  // a stack (and power model) written by `jouleperf calibrate --save`; replaces stack
  std::string model = "Llama-3.1-8B";
  std::string precision = "bf16";
  std::uint32_t tp = 1, replicas = 1;
  std::string router = "least-loaded";
  std::string batching;  // default: the stack's
  std::uint32_t max_batch = 256, token_budget = 0;
  bool no_chunked_prefill = false;
  double memory_utilization = 0.9;  // share of device memory
  double static_wait_s = 0;         // s
  std::uint32_t beam = 1, spec_tokens = 0;
  double spec_acceptance = 0.7;
  std::string draft = "Llama-3.2-1B";
  std::size_t timeline_bins = 60;
};

// The built-in registry with `profiles` loaded; the loader's error for a bad file.
Result<hardware::HardwareRegistry> load_registry(const std::vector<std::string>& profiles);

// The configuration `d` describes (hardware looked up in `registry`). kInvalidArgument for
// an unknown hardware, stack, precision, router or batching; "--stack-file: ..." errors
// for a bad stack file; model errors as resolve_model.
Result<SimConfig> to_sim_config(const DeploymentOptions& d, const hardware::HardwareRegistry& registry);

// "12.3 kJ", "4.56 MJ": joules with an SI prefix, 3 significant digits.
std::string format_joules(double j);

}  // namespace jouleperf::sim
