// jouleperf simulate: a whole trace or arrival process (or one controlled batch) served
// by a simulated deployment — per-request latencies, energy in total, per request and per
// token, idle share, utilization over time. Every figure printed is SIMULATED.
#include <memory>

#include "commands.hpp"
#include "jouleperf/sim/documents.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "output_flags.hpp"
#include "sim_flags.hpp"

namespace jouleperf::cli {
namespace {

struct SimulateFlags {
  DeploymentFlags deploy;
  WorkloadFlags work;
  std::uint32_t batch = 0;  // controlled batch mode
  OutputFlags out;
  bool per_request = false;
  bool list_stacks = false;
};

constexpr const char* kCommand = "simulate";

int run_batch(const SimulateFlags& f, const sim::SimConfig& config, table::Format format) {
  if (f.work.input == 0 || f.work.output == 0)
    return fail(kCommand, make_error(Errc::kInvalidArgument, "--batch needs --input-tokens and --output-tokens"));
  auto b = sim::simulate_batch(config, f.work.input, f.work.output, f.batch);
  if (!b) return fail(kCommand, b.error());
  const int rc = emit(f.out, format,
                      sim::batch_document(*b, config, f.batch, f.work.input, f.work.output, f.per_request), kCommand);
  return rc == kExitOk && !b->fits && format != table::Format::kJson ? kExitFailure : rc;
}

int run(SimulateFlags& f) {
  auto format = output_format(f.out, kCommand, legacy_output_tokens(f.work.output));
  if (!format) return fail(kCommand, format.error());
  if (f.list_stacks) return emit(f.out, *format, sim::stacks_document(sim::builtin_stacks()), kCommand);
  if (f.deploy.hardware.empty())
    return fail(kCommand, make_error(Errc::kInvalidArgument, "--hardware is required (jouleperf hardware list)"));
  auto registry = load_registry(f.deploy);
  if (!registry) return fail(kCommand, registry.error());
  auto config = to_sim_config(f.deploy, *registry);
  if (!config) return fail(kCommand, config.error());
  config->keep_requests = f.per_request;
  if (f.batch > 0) return run_batch(f, *config, *format);
  std::string described;
  auto reqs = sim::load_workload(f.work, described);
  if (!reqs) return fail(kCommand, reqs.error());
  auto r = sim::simulate(*config, *reqs);
  if (!r) return fail(kCommand, r.error());
  return emit(f.out, *format, sim::simulate_document(*r, *config, described, f.per_request), kCommand);
}

}  // namespace

void add_simulate_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<SimulateFlags>();
  auto* cmd = app.add_subcommand("simulate",
                                 "Simulated serving on hardware you do not have: latencies, energy, idle share, "
                                 "utilization (a model, not a measurement)");
  add_deployment_flags(cmd, f->deploy, /*hardware_required=*/false);
  // --hardware is required unless --list-stacks: checked in the callback.
  cmd->add_option("--hardware", f->deploy.hardware, "hardware profile (jouleperf hardware list)")
      ->envname("JOULEPERF_HARDWARE");
  cmd->add_option("--stack", f->deploy.stack, "hf-eager | hf-compiled | vllm | llamacpp-cpu")
      ->capture_default_str()
      ->envname("JOULEPERF_STACK");
  cmd->add_option(
         "--stack-file", f->deploy.stack_file,
         "JSON with a fitted \"stack\" (and \"power\"), as `jouleperf calibrate --save` writes; replaces --stack")
      ->envname("JOULEPERF_STACK_FILE");
  cmd->add_option("--precision", f->deploy.precision, "weights: bf16 | fp8 | int8 | int4")->capture_default_str();
  cmd->add_option("--tp", f->deploy.tp, "tensor-parallel devices per replica")->capture_default_str();
  cmd->add_option("--replicas", f->deploy.replicas, "replicas behind the router")->capture_default_str();
  cmd->add_option("--batching", f->deploy.batching, "static | continuous (default: the stack's)");
  cmd->add_option("--max-batch", f->deploy.max_batch, "max sequences per step (static: the batch size)")
      ->capture_default_str();
  cmd->add_option("--beam", f->deploy.beam, "beam width")->capture_default_str();
  cmd->add_option("--spec-tokens", f->deploy.spec_tokens, "speculative decoding: draft tokens per step (0 = off)")
      ->capture_default_str();
  add_workload_flags(cmd, f->work);
  cmd->add_option("--batch", f->batch, "one controlled batch of this many requests of --input-tokens/--output-tokens");
  add_output_flags(cmd, f->out);
  cmd->add_flag("--per-request", f->per_request, "JSON: include every request's outcome");
  cmd->add_flag("--list-stacks", f->list_stacks, "print the named software stacks, their parameters and reasoning");
  cmd->callback([&ctx, f] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
