// jouleperf replay: open-loop load (Poisson/gamma at a rate, a sweep of rates, or a trace
// replayed) on an OpenAI-compatible server or served in-process by llama.cpp, with
// latency percentiles, goodput under an SLO and energy (study/replay.hpp).
#include <iostream>

#include "commands.hpp"
#include "jouleperf/study/replay.hpp"
#include "llama_flags.hpp"
#include "openai_flags.hpp"
#include "output_flags.hpp"
#include "prompt_flags.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "replay";

struct ReplayFlags {
  SensorFlags sensors;
  study::ReplayOptions options;
  OpenAiFlags openai;
  PromptFlags prompts;
  OutputFlags out;
};

// The flags that are not plain settings, resolved into the options (any error is a usage error).
Status resolve(ReplayFlags& f) {
  study::ReplayOptions& o = f.options;
  if (auto why = prompt_flags_refusal(f.prompts, o.engine); !why.empty())
    return make_error(Errc::kInvalidArgument, why);
  auto texts = load_prompt_flags(f.prompts);
  if (!texts) return texts.error();
  o.prompts = std::move(*texts);
  if (o.engine == "openai") {
    auto oc = openai_config(f.openai);
    if (!oc) return oc.error();
    o.openai = std::move(*oc);
  }
  return {};
}

int run(ReplayFlags& f) {
  // The old --output N (generated tokens) sets the count as -O N does.
  auto format = output_format(f.out, kCommand, legacy_output_tokens(f.options.output));
  if (!format) return fail(kCommand, format.error());
  if (auto st = resolve(f); !st) {
    fail(kCommand, st.error());
    return kExitUsage;
  }
  auto result = study::run_replay(f.options, [&f](const Clock& clock) -> Result<std::unique_ptr<Sampler>> {
    auto sampler = start_sampler(f.sensors, clock, kCommand);
    if (!sampler) return make_error(Errc::kIo, "");  // start_sampler has said why
    return sampler;
  });
  if (!result) return result.error().message.empty() ? kExitFailure : fail(kCommand, result.error());
  if (int rc = emit(f.out, *format, study::replay_document(*result), kCommand); rc != kExitOk) return rc;
  for (const auto& line : study::failure_excess_lines(*result)) std::cerr << "jouleperf replay: " << line << "\n";
  return result->over.empty() ? kExitOk : kExitFailure;
}

void add_load_flags(CLI::App* cmd, study::ReplayOptions& o) {
  cmd->add_option("--poisson", o.poisson_rps, "Poisson arrivals at RATE requests/s")->check(CLI::PositiveNumber);
  cmd->add_option("--gamma-cv", o.gamma_cv, "With --poisson: gamma arrivals with this coefficient of variation")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--requests,-n", o.requests, "Requests to send (the most taken from a trace)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--trace", o.trace, "Replay this trace's arrivals and lengths");
  cmd->add_option("--speed", o.speed, "Trace time compression (2 = twice as fast)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--from", o.from_s, "Trace window: arrivals from this trace time on, s");
  cmd->add_option("--to", o.to_s, "Trace window: arrivals before this trace time, s");
  cmd->add_option("--input,-I", o.input, "Prompt tokens per request (with --poisson)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("-O,--output-tokens", o.output, "Generated tokens per request (with --poisson)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-concurrency", o.max_concurrency, "Requests in flight at most (later sends wait)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo", o.slo, "Goodput objective, e.g. ttft=0.5,tpot=0.05 (seconds)");
  cmd->add_option("--seed", o.seed, "Seed of arrivals and prompts")->envname("JOULEPERF_SEED")->capture_default_str();
  cmd->add_option("--idle", o.idle_s, "Measure idle power for S seconds first and report energy above idle")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", o.idle_power_w, "Idle power to subtract, W (instead of measuring it)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--warmup", o.warmup,
                  "Unmeasured warm-up: llamacpp, runs of the first request; openai --rates, requests at the first "
                  "rate before the first phase")
      ->capture_default_str();
}

void add_serving_flags(CLI::App* cmd, study::ReplayOptions& o) {
  cmd->add_option("--batching", o.batching, "llamacpp: continuous or static")->capture_default_str();
  cmd->add_option("--max-batch", o.max_batch, "llamacpp: most sequences at once (continuous) / batch size (static)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--static-wait", o.static_wait_s,
                  "llamacpp static: longest wait for a batch to fill after its first arrival, s")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--offline-compare", o.offline_compare,
                "llamacpp: also run the same requests all at t=0 in static batches of --max-batch and compare energy");
  add_llama_flags(cmd, o.llama, "llamacpp: ");
}

void add_sweep_flags(CLI::App* cmd, study::ReplayOptions& o) {
  cmd->add_option("--rates", o.rates_rps,
                  "Rate sweep: Poisson (or --gamma-cv) phases at these rates, requests/s, e.g. 1,2,4 (engine openai)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--idle-gap", o.idle_gap_s,
                  "With --rates: idle time after each phase, counted in that phase's energy, s")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--duration", o.duration_s, "With --rates: each phase sends the arrivals of this long, s")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--store", o.store,
                  "Write the run and every request (with its attributed energy) into this results store (SQLite)");
  cmd->add_option("--idle-policy", o.idle_policy,
                  "Energy per request: energy while no request is in flight is kept apart (none) or apportioned by "
                  "time in flight (time) or tokens (tokens)")
      ->capture_default_str();
  cmd->add_option("--cost-model", o.cost_model,
                  "Energy per request: the per-token cost model that splits each slice: equal | flops (the model's "
                  "FLOPs per token; the default where its architecture is known) | STORE.db (fitted from its cells)");
  cmd->add_option("--group-by", o.group_by,
                  "Chargeback: sum energy per request per value of this trace column (tenant, model, log type), with "
                  "each group's share and emissions");
  cmd->add_option("--carbon-intensity", o.carbon.intensity_g_per_kwh,
                  "With --group-by: grid carbon intensity, gCO2e/kWh")
      ->capture_default_str();
  cmd->add_option("--pue", o.carbon.pue, "With --group-by: data-centre power usage effectiveness (>= 1)")
      ->capture_default_str();
  cmd->add_option("--max-failure-rate", o.max_failure_rate,
                  "Exit 1 when the failed share of the requests (of any phase, with --rates) is above this, in [0, 1]")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
}

}  // namespace

void add_replay_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ReplayFlags>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Open-loop load on an OpenAI-compatible server or served in-process by llama.cpp, with latency and energy");
  add_sensor_flags(cmd, f->sensors);
  cmd->add_option("--engine", f->options.engine, "Engine: openai (a server), llamacpp (in-process, online batching)")
      ->capture_default_str();
  add_openai_flags(cmd, f->openai);
  add_prompt_flags(cmd, f->prompts);
  cmd->add_option("--model,-m", f->options.model, "openai: the served model name; llamacpp: the GGUF model file");
  add_load_flags(cmd, f->options);
  add_serving_flags(cmd, f->options);
  add_sweep_flags(cmd, f->options);
  add_output_flags(cmd, f->out);
  auto* gap = cmd->get_option("--idle-gap");
  auto* requests = cmd->get_option("--requests");
  cmd->callback([f, &ctx, gap, requests, cmd] {
    f->options.idle_gap_given = gap->count() > 0;
    f->options.requests_given = requests->count() > 0;
    estimate::describe_carbon_source(f->options.carbon, cmd->get_option("--carbon-intensity")->count() > 0,
                                     cmd->get_option("--pue")->count() > 0);
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
