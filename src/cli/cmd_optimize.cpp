// jouleperf optimize: the simulated configuration that serves a workload with the least
// energy under TTFT / TPOT / end-to-end SLOs and a minimum throughput, the energy-latency
// Pareto front, and the savings against a named baseline (sim::run_optimize). With
// --engine llamacpp: the candidates (model files x threads x max batch x batching) planned
// on the simulator, the top K and the baseline measured on llama.cpp, and prediction
// against measurement (study/optimize_measured_run.hpp).
#include <unistd.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "jouleperf/core/host.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sim/optimize_run.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/optimize_measured_run.hpp"
#include "output_flags.hpp"
#include "sensor_flags.hpp"
#include "sim_flags.hpp"
#include "sweep_progress.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "optimize";

struct OptimizeFlags {
  DeploymentFlags deploy;  // model, profiles, router, token budget, memory, acceptance, draft
  WorkloadFlags work;
  sim::OptimizeSearchOptions search;
  OutputFlags out;
  // --engine llamacpp (measured mode)
  std::string engine = "sim";
  study::MeasuredOptimizeOptions measured;
  SensorFlags sensor;
  double idle_s = 0;
  bool max_batch_given = false, baseline_given = false;
  OptimizeFlags() { search.max_cells = study::default_max_cells(); }
};

int run_sim(const OptimizeFlags& f, table::Format format) {
  auto r = sim::run_optimize(f.search, f.deploy, f.work);
  if (!r) return fail(kCommand, r.error());
  return emit(f.out, format, sim::optimize_document(*r), kCommand);
}

// The measured mode's settings: its own flags, and the shared ones (--hardware, --max-batch,
// --batching, --baseline, --slo-e2e, --max-cells, the workload, --stack-file, CPU power).
study::MeasuredOptimizeOptions measured_options(const OptimizeFlags& f) {
  study::MeasuredOptimizeOptions o = f.measured;
  o.trace = f.work.trace;
  o.workload = f.work.workload;
  o.seed = f.work.seed;
  if (f.max_batch_given) o.max_batch = f.search.max_batch;
  o.batching = f.search.batching;
  if (f.baseline_given) o.baseline = f.search.baseline;
  o.slo_e2e_s = f.search.slo_e2e;
  o.max_cells = f.search.max_cells;
  if (!f.search.hardware.empty()) o.hardware = f.search.hardware.front();
  o.profiles = f.deploy.profiles;
  o.stack_file = f.deploy.stack_file;
  o.cpu_idle_w = f.sensor.cpu_idle_w;
  o.cpu_max_w = f.sensor.cpu_max_w;
  return o;
}

// The sweep's clock, sampler, idle baseline and the host's and sensor's conditions.
Result<study::SweepEnv> sweep_env(const OptimizeFlags& f, const Clock& clock, Sampler& sampler) {
  study::SweepEnv env;
  env.clock = &clock;
  env.sampler = &sampler;
  if (f.idle_s > 0) {
    auto m = measure_idle(sampler, Seconds(f.idle_s));
    if (!m) return m.error();
    env.idle = *m;
  }
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  nlohmann::json sensor = nlohmann::json::object();
  for (const auto& [k, v] : sampler.conditions()) sensor[k] = v;
  conditions["sensor"] = sensor;
  env.conditions = conditions;
  return env;
}

int run_measured(const OptimizeFlags& f, table::Format format) {
  const auto o = measured_options(f);
  auto plan = study::plan_measured_optimize(o);
  if (!plan) return fail(kCommand, plan.error());
  std::cerr << study::plan_summary(*plan) << "\n";
  if (o.store.empty())
    return fail(kCommand, make_error(Errc::kInvalidArgument, "--engine llamacpp needs --store FILE"));
  auto store = study::Store::open(o.store);
  if (!store) return fail(kCommand, store.error());
  SteadyClock clock;
  auto sampler = start_sampler(f.sensor, clock, kCommand);
  if (!sampler) return kExitFailure;
  const auto [estimated, sensors] = summarize_sampler(*sampler);
  auto env = sweep_env(f, clock, *sampler);
  if (!env) return fail(kCommand, env.error());
  Progress progress(isatty(STDERR_FILENO) == 1);
  auto out = study::run_measured_optimize(o, *plan, *store, *env, &progress, estimated, sensors);
  sampler->stop();
  if (!out) return fail(kCommand, out.error());
  return emit(f.out, format, study::measured_optimize_document(*out), kCommand);
}

int run(OptimizeFlags& f) {
  auto format = output_format(f.out, kCommand, legacy_output_tokens(f.work.output));
  if (!format) return fail(kCommand, format.error());
  if (f.engine == "llamacpp") return run_measured(f, *format);
  if (!f.measured.models.empty() || !f.measured.store.empty())
    return fail(kCommand, make_error(Errc::kInvalidArgument, "--models and --store need --engine llamacpp"));
  return run_sim(f, *format);
}

void add_search_flags(CLI::App* cmd, OptimizeFlags& f) {
  cmd->add_option("--hardware", f.search.hardware, "hardware profiles to try (default: every GPU profile)")
      ->delimiter(',');
  cmd->add_option("--devices", f.search.devices, "total devices to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--tp", f.search.tp, "tensor-parallel degrees to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--stacks", f.search.stacks, "software stacks to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--batching", f.search.batching,
                  "batching modes to try (default: each stack's own; --engine llamacpp: static,continuous)")
      ->delimiter(',');
  cmd->add_option("--max-batch", f.search.max_batch,
                  "maximum batch sizes to try (--engine llamacpp: the batch sizes, default 1,4,8)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--decoding", f.search.decoding, "greedy, spec (speculative with --draft)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--precision", f.search.precisions, "weight precisions to try")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--power-caps", f.search.power_caps,
                  "GPU power limits to try, fractions of each profile's TDP (1 = uncapped), e.g. 1,0.8,0.6")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--clock-ratios", f.search.clock_ratios,
                  "locked GPU clocks to try, fractions of the maximum (1 = not locked), e.g. 1,0.7,0.5")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--phase-clocks", f.search.phase_clocks,
                "also try a different --clock-ratios value for prefill steps and for decode steps (switching taken "
                "as free: separate prefill and decode devices, or a phase-aware governor)");
  cmd->add_option("--spec-tokens", f.search.spec_tokens, "draft tokens per speculative step")->capture_default_str();
}

void add_limit_flags(CLI::App* cmd, OptimizeFlags& f) {
  cmd->add_option("--slo-ttft", f.search.slo_ttft, "p99 time to first token, s");
  cmd->add_option("--slo-tpot", f.search.slo_tpot, "p99 time per output token, s");
  cmd->add_option("--slo-e2e", f.search.slo_e2e, "p99 end-to-end latency, s");
  cmd->add_option("--min-throughput", f.search.min_throughput, "completed requests per second");
  cmd->add_option("--baseline", f.search.baseline,
                  "the configuration to compare with, key=value,...: hardware (default: the first tried), stack, "
                  "batching, max-batch, tp, devices, precision, decoding; 'none' for none. --engine llamacpp: a "
                  "candidate's name (default: first model, 1 thread, B=1, static)")
      ->capture_default_str();
  cmd->add_option("--threads", f.search.threads, "worker threads (default: all cores)");
  cmd->add_option("--top", f.search.top, "feasible configurations to list")->capture_default_str();
  cmd->add_option("--max-cells", f.search.max_cells,
                  "refuse a search grid of more configurations than this (default: sized to this machine's memory)")
      ->capture_default_str();
  cmd->add_option("--overload", f.search.overload_s, "stop a run once it falls this far behind the last arrival, s")
      ->capture_default_str();
}

void add_measured_flags(CLI::App* cmd, OptimizeFlags& f) {
  cmd->add_option("--stack-file", f.deploy.stack_file,
                  "--engine llamacpp: a stack (and power model) from `jouleperf calibrate --save` instead of "
                  "llamacpp-cpu");
  cmd->add_option("--engine", f.engine,
                  "sim: search the simulator only; llamacpp: plan on the simulator, measure the top K on llama.cpp")
      ->capture_default_str()
      ->check(CLI::IsMember({"sim", "llamacpp"}));
  cmd->add_option("--models", f.measured.models, "--engine llamacpp: GGUF files to try (the first is the baseline's)")
      ->delimiter(',');
  cmd->add_option("--cpu-threads", f.measured.cpu_threads, "--engine llamacpp: CPU thread counts to try")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--top-k", f.measured.top_k, "--engine llamacpp: candidates to measure besides the baseline")
      ->capture_default_str();
  cmd->add_option("--store", f.measured.store, "--engine llamacpp: results store (SQLite; a rerun resumes into it)");
  cmd->add_option("--scale-input", f.measured.scale_input,
                  "--engine llamacpp: divide input lengths (and edges) by this, rounding up, so a CPU finishes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--scale-output", f.measured.scale_output,
                  "--engine llamacpp: divide output lengths (and edges) by this")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input-edges", f.measured.input_edges, "--engine llamacpp: input bin edges before scaling, tokens")
      ->capture_default_str();
  cmd->add_option("--output-edges", f.measured.output_edges,
                  "--engine llamacpp: output bin edges before scaling, tokens")
      ->capture_default_str();
  cmd->add_option("--reps", f.measured.reps, "--engine llamacpp: measured batches per cell")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", f.measured.warmup, "--engine llamacpp: warm-up batches per cell")->capture_default_str();
  cmd->add_option("--idle", f.idle_s, "--engine llamacpp: measure idle power for this long first, s (0: none)")
      ->capture_default_str();
  add_sensor_flags(cmd, f.sensor);
}

}  // namespace

void add_optimize_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<OptimizeFlags>();
  auto* cmd = app.add_subcommand("optimize",
                                 "The simulated configuration with the least energy under latency SLOs, the "
                                 "energy-latency Pareto front and the savings against a baseline");
  add_deployment_flags(cmd, f->deploy, /*hardware_required=*/false);
  add_workload_flags(cmd, f->work);
  add_search_flags(cmd, *f);
  add_limit_flags(cmd, *f);
  add_output_flags(cmd, f->out);
  add_measured_flags(cmd, *f);
  auto* max_batch_opt = cmd->get_option("--max-batch");
  auto* baseline_opt = cmd->get_option("--baseline");
  cmd->callback([&ctx, f, max_batch_opt, baseline_opt] {
    f->max_batch_given = max_batch_opt->count() > 0;
    f->baseline_given = baseline_opt->count() > 0;
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
