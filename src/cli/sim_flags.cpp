#include "sim_flags.hpp"

#include <fmt/format.h>

#include <random>

#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/stack_json.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::cli {

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f) {
  cmd->add_option("--trace", f.trace, "trace file (Azure, BurstGPT, Mooncake, ...): replayed at its own times")
      ->envname("JOULEPERF_TRACE");
  cmd->add_option("--workload", f.workload, "embedded workload: azure-conv-2023 | azure-code-2023")
      ->envname("JOULEPERF_WORKLOAD");
  f.poisson_opt = cmd->add_option("--poisson", f.poisson_rps,
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

Result<std::vector<workload::TimedRequest>> load_workload(const WorkloadFlags& f, std::string& description) {
  using namespace workload;
  const bool poisson = f.poisson_opt != nullptr && f.poisson_opt->count() > 0;
  if (!f.trace.empty() && !f.workload.empty())
    return make_error(Errc::kInvalidArgument, "give --trace or --workload, not both");
  auto lengths = parse_length_model(f.lengths);
  if (!lengths) return lengths.error();
  std::mt19937_64 rng(f.seed);
  SynthesisOptions o;
  o.lengths = *lengths;
  if (poisson) o.rate_rps = f.poisson_rps;
  o.replay.speed = f.speed;
  if (!f.trace.empty()) {
    auto t = load_timed_requests(f.trace, LoadOptions{});
    if (!t) return t.error();
    if (poisson) {
      o.arrivals = ArrivalProcess::kPoisson;
      o.count = f.count > 0 ? f.count : t->requests.size();
      description = fmt::format("{}: {} requests, lengths resampled from {} rows, Poisson {:g} req/s (seed {})",
                                f.trace, o.count, t->requests.size(), f.poisson_rps, f.seed);
      return synthesize(*t, o, rng);
    }
    if (!t->load.has_arrivals)
      return make_error(Errc::kInvalidArgument, fmt::format("{} has no arrival times: add --poisson RATE", f.trace));
    o.arrivals = ArrivalProcess::kReplay;
    o.count = f.count;
    auto out = synthesize(*t, o, rng);
    if (out) description = fmt::format("{}: {} requests replayed at speed {:g}", f.trace, out->size(), f.speed);
    return out;
  }
  if (!f.workload.empty() || !poisson || (f.input == 0 && f.output == 0)) {
    const std::string name = f.workload.empty() ? "azure-conv-2023" : f.workload;
    auto w = find_default_workload(name);
    if (!w) return make_error(Errc::kInvalidArgument, w.error().message);
    o.arrivals = ArrivalProcess::kPoisson;
    o.count = f.count > 0 ? f.count : (*w)->requests;
    description = fmt::format("{}: {} requests, {} lengths, Poisson {:.3g} req/s{} (seed {})", name, o.count, f.lengths,
                              poisson ? f.poisson_rps : (*w)->rate_rps, poisson ? "" : " (its own rate)", f.seed);
    return synthesize(**w, o, rng);
  }
  if (f.input == 0 || f.output == 0)
    return make_error(Errc::kInvalidArgument,
                      "--poisson without a trace or workload needs --input-tokens and --output-tokens");
  auto arrivals = poisson_arrivals(f.poisson_rps, f.count > 0 ? f.count : 1000, rng);
  if (!arrivals) return arrivals.error();
  std::vector<TimedRequest> out;
  out.reserve(arrivals->size());
  for (double t : *arrivals) out.push_back({t, f.input, f.output});
  description = fmt::format("{} requests of {} + {} tokens, Poisson {:g} req/s (seed {})", out.size(), f.input,
                            f.output, f.poisson_rps, f.seed);
  return out;
}

Result<ModelInfo> resolve_model(const std::string& name_or_path) {
  auto a = find_builtin_arch(name_or_path);
  if (a) return info_from_arch(*a);
  if (name_or_path.size() > 5 && name_or_path.ends_with(".gguf")) return read_gguf_info(name_or_path);
  return make_error(Errc::kInvalidArgument, a.error().message + " (or give a .gguf path)");
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
    cmd->add_option("--stack-file", f.stack_file, "stack and power model written by `jouleperf calibrate -o`");
  }
  cmd->add_option("--assume-input-tokens", f.assume_input_tokens,
                  "prompt length for rows without avg_input_tokens (ML.ENERGY v3 publishes none; 400 is inferred "
                  "from the KV-cache limit, docs/fidelity.md)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

Result<ServingInputs> load_serving_inputs(const ServingFlags& f) {
  if (f.measurements.empty()) return make_error(Errc::kInvalidArgument, "--measurements is required");
  hardware::HardwareRegistry registry;
  for (const auto& p : f.profiles)
    if (auto st = registry.load_file(p); !st) return st.error();
  ServingInputs in;
  std::optional<nlohmann::json> power;
  if (!f.stack_file.empty()) {
    auto file = sim::load_stack_file(f.stack_file);
    if (!file) return make_error(file.error().code, "--stack-file: " + file.error().message);
    in.stack = file->stack;
    power = file->power;
  } else {
    auto named = sim::find_stack(f.stack);
    if (!named) return make_error(Errc::kInvalidArgument, "--stack: " + named.error().message);
    in.stack = *named;
  }
  if (in.stack.device != hardware::DeviceKind::kGpu)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("stack '{}' runs on CPUs; the measurements are of GPUs", in.stack.name));
  in.power = sim::default_power_model(hardware::DeviceKind::kGpu);
  if (power) {
    auto m = sim::power_from_json(*power, in.power, f.stack_file);
    if (!m) return make_error(m.error().code, "--stack-file: " + m.error().message);
    in.power = *m;
  }
  auto rows = sim::load_serving_measurements(f.measurements);
  if (!rows) return rows.error();
  for (const auto& r : *rows)
    if (!r.mean_input_tokens) ++in.assumed_rows;
  auto cases = sim::serving_cases(*rows, registry, in.stack, in.power, f.assume_input_tokens, f.measurements);
  if (!cases) return cases.error();
  for (const auto& c : *cases)
    if (c.measured.num_gpus > c.config.hardware.max_tp)
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("{}:{}: field 'num_gpus': {} GPUs; '{}' allows tensor parallelism up to {}", f.measurements,
                      c.measured.line, c.measured.num_gpus, c.config.hardware.name, c.config.hardware.max_tp));
  in.cases = std::move(*cases);
  return in;
}

Result<FidelityCheck> check_fidelity(const ServingFlags& f) {
  auto in = load_serving_inputs(f);
  if (!in) return in.error();
  auto rows = sim::compare_serving(in->cases, in->stack, in->power, f.measurements);
  if (!rows) return rows.error();
  const auto errors = sim::summarize(*rows);
  const std::string what =
      fmt::format("stack '{}'{}", in->stack.name, f.stack_file.empty() ? "" : " from " + f.stack_file);
  FidelityCheck out;
  out.rows = report::serving_table(*rows, "fidelity", "Simulated (" + what + ") against measured");
  out.errors = report::serving_error_table(errors, "fidelity_errors", "Absolute percentage errors");
  if (in->assumed_rows > 0)
    out.assumption = fmt::format("{} of {} rows carry no prompt length: assumed {:g} tokens (--assume-input-tokens)",
                                 in->assumed_rows, in->cases.size(), f.assume_input_tokens);
  out.document = {
      {"measurements", f.measurements},
      {"stack", in->stack.name},
      {"stack_file", f.stack_file},
      {"assumed_input_tokens", in->assumed_rows > 0 ? nlohmann::json(f.assume_input_tokens) : nlohmann::json()},
      {"assumed_rows", in->assumed_rows},
      {"rows", report::to_json(out.rows)},
      {"errors", report::to_json(out.errors)},
      {"simulated", true}};
  return out;
}

Result<hardware::HardwareRegistry> load_registry(const DeploymentFlags& f) {
  hardware::HardwareRegistry r;
  for (const auto& p : f.profiles)
    if (auto st = r.load_file(p); !st) return st.error();
  return r;
}

Result<sim::SimConfig> to_sim_config(const DeploymentFlags& f, const hardware::HardwareRegistry& registry) {
  auto hw = registry.find(f.hardware);
  if (!hw) return make_error(Errc::kInvalidArgument, hw.error().message);
  std::optional<nlohmann::json> power;
  std::optional<sim::SoftwareStack> stack;
  if (!f.stack_file.empty()) {
    auto file = sim::load_stack_file(f.stack_file);
    if (!file) return make_error(file.error().code, "--stack-file: " + file.error().message);
    stack = file->stack;
    power = file->power;
  } else {
    auto named = sim::find_stack(f.stack);
    if (!named) return make_error(Errc::kInvalidArgument, named.error().message);
    stack = *named;
  }
  auto model = resolve_model(f.model);
  if (!model) return model.error();
  auto precision = sim::parse_weight_precision(f.precision);
  if (!precision) return precision.error();
  auto router = sim::parse_router(f.router);
  if (!router) return router.error();
  sim::SimConfig c = sim::make_config(*hw, *stack, *model);
  if (power) {
    auto m = sim::power_from_json(*power, c.power, f.stack_file);
    if (!m) return make_error(m.error().code, "--stack-file: " + m.error().message);
    c.power = *m;
  }
  c.precision = *precision;
  c.router = *router;
  if (!f.batching.empty()) {
    auto b = sim::parse_batching(f.batching);
    if (!b) return b.error();
    c.batching = *b;
  }
  c.tp = f.tp;
  c.replicas = f.replicas;
  c.max_batch = f.max_batch;
  if (f.token_budget > 0) c.token_budget = f.token_budget;
  c.chunked_prefill = !f.no_chunked_prefill;
  c.memory_utilization = f.memory_utilization;
  c.static_wait_s = f.static_wait_s;
  c.timeline_bins = f.timeline_bins;
  c.decoding.beam_width = f.beam;
  c.decoding.spec_tokens = f.spec_tokens;
  c.decoding.spec_acceptance = f.spec_acceptance;
  if (f.spec_tokens > 0) {
    auto d = resolve_model(f.draft);
    if (!d) return make_error(d.error().code, "--draft: " + d.error().message);
    c.decoding.draft = *d;
  }
  return c;
}

std::string format_joules(double j) {
  const double a = j < 0 ? -j : j;
  if (a >= 1e9) return fmt::format("{:.3g} GJ", j / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g} MJ", j / 1e6);
  if (a >= 1e3) return fmt::format("{:.3g} kJ", j / 1e3);
  return fmt::format("{:.3g} J", j);
}

}  // namespace jouleperf::cli
