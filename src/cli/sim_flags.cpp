#include "sim_flags.hpp"

namespace jouleperf::cli {

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f) {
  cmd->add_option("--trace", f.trace, "trace file (Azure, BurstGPT, Mooncake, ...): replayed at its own times")
      ->envname("JOULEPERF_TRACE");
  cmd->add_option("--workload", f.workload, "embedded workload: azure-conv-2023 | azure-code-2023")
      ->envname("JOULEPERF_WORKLOAD");
  cmd->add_option("--poisson", f.poisson_rps,
                  "Poisson arrivals at this rate (req/s), lengths from --trace/--workload or "
                  "--input-tokens/--output-tokens");
  cmd->add_option("-n,--count", f.count, "requests to draw (default: the workload's own count)");
  cmd->add_option("--seed", f.seed, "random seed")->capture_default_str()->envname("JOULEPERF_SEED");
  cmd->add_option("--lengths", f.lengths, "empirical | lognormal | bins")->capture_default_str();
  cmd->add_option("-I,--input-tokens,--input", f.input, "fixed prompt length with --poisson or --batch, tokens");
  cmd->add_option("-O,--output-tokens", f.output,
                  "fixed output length with --poisson or --batch, tokens (was --output N, still accepted)");
  cmd->add_option("--speed", f.speed, "trace replay: time compression (2 = twice as fast)")->capture_default_str();
}

void add_deployment_flags(CLI::App* cmd, DeploymentFlags& f, bool hardware_required) {
  cmd->add_option("--profiles", f.profiles, "JSON file(s) of user hardware profiles")
      ->envname("JOULEPERF_HARDWARE_PROFILES");
  if (hardware_required) {
    cmd->add_option("--hardware", f.hardware, "hardware profile (jouleperf hardware list)")
        ->required()
        ->envname("JOULEPERF_HARDWARE");
    cmd->add_option("--stack", f.stack, "hf-eager | hf-compiled | vllm | llamacpp-cpu")
        ->capture_default_str()
        ->envname("JOULEPERF_STACK");
    cmd->add_option("--precision", f.precision, "weights: bf16 | fp8 | int8 | int4")->capture_default_str();
    cmd->add_option("--tp", f.tp, "tensor-parallel devices per replica")->capture_default_str();
    cmd->add_option("--replicas", f.replicas, "replicas behind the router")->capture_default_str();
    cmd->add_option("--batching", f.batching, "static | continuous (default: the stack's)");
    cmd->add_option("--max-batch", f.max_batch, "max sequences per step (static: the batch size)")
        ->capture_default_str();
    cmd->add_option("--beam", f.beam, "beam width")->capture_default_str();
    cmd->add_option("--spec-tokens", f.spec_tokens, "speculative decoding: draft tokens per step (0 = off)")
        ->capture_default_str();
  }
  cmd->add_option("--model", f.model, "built-in architecture or a .gguf file")
      ->capture_default_str()
      ->envname("JOULEPERF_MODEL");
  cmd->add_option("--router", f.router, "round-robin | least-loaded")->capture_default_str();
  cmd->add_option("--token-budget", f.token_budget, "max tokens per step (default 8192; llamacpp-cpu 2048)");
  cmd->add_flag("--no-chunked-prefill", f.no_chunked_prefill, "whole prompts in steps of their own");
  cmd->add_option("--memory-utilization", f.memory_utilization, "share of device memory the engine uses")
      ->capture_default_str();
  cmd->add_option("--static-wait", f.static_wait_s, "static batching: wait up to this long for a full batch, s")
      ->capture_default_str();
  cmd->add_option("--spec-acceptance", f.spec_acceptance, "speculative decoding: per-token acceptance rate")
      ->capture_default_str();
  cmd->add_option("--draft", f.draft, "speculative decoding: draft model")->capture_default_str();
  cmd->add_option("--timeline-bins", f.timeline_bins, "utilization-over-time bins")->capture_default_str();
}

void add_serving_flags(CLI::App* cmd, ServingFlags& f, bool stack_flags) {
  cmd->add_option("--measurements", f.measurements,
                  "CSV of steady-state serving runs (ML.ENERGY-style columns; docs/fidelity.md)");
  if (stack_flags) {
    cmd->add_option("--profiles", f.profiles, "JSON file(s) of user hardware profiles")
        ->envname("JOULEPERF_HARDWARE_PROFILES");
    cmd->add_option("--stack", f.stack, "named GPU stack to compare (hf-eager | hf-compiled | vllm)")
        ->capture_default_str();
    cmd->add_option("--stack-file", f.stack_file, "stack and power model written by `jouleperf calibrate --save`");
  }
  cmd->add_option("--assume-input-tokens", f.assume_input_tokens,
                  "prompt length for rows without avg_input_tokens (ML.ENERGY v3 publishes none; 400 is inferred "
                  "from the KV-cache limit, docs/fidelity.md)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace jouleperf::cli
