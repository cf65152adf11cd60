// jouleperf sweep: the controlled grid (configs x I x O x B) into a resumable results
// store, from a study file or from flags; one shard of it with --shard i/n.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/host.hpp"
#include "jouleperf/study/config_check.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/sweep.hpp"
#include "prompt_flags.hpp"
#include "sensor_flags.hpp"
#include "sweep_progress.hpp"

namespace jouleperf::cli {
namespace {

struct SweepArgs {
  SensorFlags flags;
  std::string study_file;
  std::string store;
  std::string config_name = "default";
  std::string engine;
  std::string model;
  std::string weight_type;
  std::string strategy;
  std::string batching;
  std::optional<int> threads;
  std::vector<std::string> settings;         // KEY=VALUE
  std::optional<double> request_deadline_s;  // openai: the setting request_deadline_s
  std::string input, output, batch;
  std::optional<std::uint32_t> warmup, reps;
  std::optional<double> idle_gap_s;
  std::optional<std::uint64_t> seed;
  std::string order;                   // rep-major | cell-major ("" = the study's)
  std::optional<double> until_ci_pct;  // --until-ci PCT
  std::optional<std::uint32_t> max_reps;
  std::string shard = "0/1";
  double idle_s = 0.0;
  std::optional<double> idle_power_w;
  bool progress_bar = false, no_progress_bar = false;
  std::uint64_t max_cells = study::default_max_cells();
  PromptFlags prompts;  // one-config grid: settings prompt / prompts / prompts_field
};

int usage(const std::string& msg) {
  std::cerr << "jouleperf sweep: " << msg << "\n";
  return kExitUsage;
}

Result<study::Study> study_from_args(const SweepArgs& a) {
  study::Study s;
  const bool config_flags = !a.engine.empty() || !a.model.empty() || !a.weight_type.empty() || !a.strategy.empty() ||
                            !a.batching.empty() || a.threads || !a.settings.empty() || a.request_deadline_s;
  if (!a.study_file.empty()) {
    if (config_flags)
      return make_error(
          Errc::kInvalidArgument,
          "--engine/--model/--weight-type/--strategy/--batching/--threads/--setting/--request-deadline describe a "
          "one-config grid; with a study file, put them in its configs (request_deadline_s in settings)");
    auto loaded = study::load_study_file(a.study_file, {}, a.max_cells);
    if (!loaded) return loaded.error();
    s = std::move(*loaded);
  } else {
    study::Config c;
    c.name = a.config_name;
    if (!a.engine.empty()) c.engine = a.engine;
    c.model = a.model;
    c.weight_type = a.weight_type;
    if (!a.strategy.empty()) c.strategy = a.strategy;
    if (!a.batching.empty()) c.batching = a.batching;
    c.threads = a.threads.value_or(0);
    for (const auto& kv : a.settings) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        return make_error(Errc::kInvalidArgument, fmt::format("--setting \"{}\": expected KEY=VALUE", kv));
      c.settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (a.request_deadline_s) {
      if (c.setting("request_deadline_s"))
        return make_error(Errc::kInvalidArgument, "give --request-deadline or --setting request_deadline_s, not both");
      c.settings.emplace_back("request_deadline_s", fmt::format("{}", *a.request_deadline_s));
    }
    s.configs.push_back(std::move(c));
    s.input_tokens = {128};
    s.output_tokens = {32};
    s.batch_sizes = {1};
  }
  struct Axis {
    const std::string* flag;
    const char* name;
    std::vector<std::uint64_t>* out;
  };
  for (const Axis& ax : {Axis{&a.input, "--input", &s.input_tokens}, Axis{&a.output, "--output", &s.output_tokens},
                         Axis{&a.batch, "--batch", &s.batch_sizes}}) {
    if (ax.flag->empty()) continue;
    auto v = study::parse_size_list(*ax.flag, ax.name);
    if (!v) return v.error();
    *ax.out = std::move(*v);
  }
  if (a.warmup) s.warmup.fixed = *a.warmup;
  if (a.reps) s.repetitions = *a.reps;
  if (a.idle_gap_s) s.idle_gap_s = *a.idle_gap_s;
  if (a.seed) s.seed = *a.seed;
  if (!a.order.empty()) {
    auto o = study::parse_run_order(a.order);
    if (!o) return o.error();
    s.order = *o;
  }
  if (a.until_ci_pct) s.until_ci_pct = *a.until_ci_pct;
  if (a.max_reps) s.max_reps = *a.max_reps;
  if (auto st = study::validate_study(s, a.max_cells); !st) return st.error();
  // Engine settings checked and model paths made absolute before the store is touched.
  if (auto st = study::prepare_study(s); !st) return st.error();
  return s;
}

int run_sweep_command(const SweepArgs& a) {
  auto shard = study::parse_shard(a.shard);
  if (!shard) return usage(shard.error().message);
  auto s = study_from_args(a);
  if (!s) {
    std::cerr << "jouleperf sweep: " << s.error().message << "\n";
    return s.error().code == Errc::kInvalidArgument || s.error().code == Errc::kParse ? kExitUsage : kExitFailure;
  }
  const auto cells = study::select_shard(study::expand_grid(*s), *shard);
  auto store = study::Store::open(a.store);
  if (!store) {
    std::cerr << "jouleperf sweep: " << store.error().to_string() << "\n";
    return kExitFailure;
  }

  SteadyClock clock;
  study::SweepEnv env;
  env.clock = &clock;
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  bool measured = false;
  for (const auto& c : cells) measured = measured || s->configs[c.config_index].engine != "sim";
  std::unique_ptr<Sampler> sampler;
  if (measured) {
    sampler = start_sampler(a.flags, clock, "sweep");
    if (!sampler) return kExitFailure;
    nlohmann::json sensor = nlohmann::json::object();
    for (const auto& [k, v] : sampler->conditions()) sensor[k] = v;
    conditions["sensor"] = sensor;
    if (a.idle_power_w) {
      env.idle = given_idle(Watts(*a.idle_power_w));
    } else if (a.idle_s > 0) {
      auto idle = measure_idle(*sampler, Seconds(a.idle_s));
      if (!idle) {
        std::cerr << "jouleperf sweep: idle baseline: " << idle.error().to_string() << "\n";
        return kExitFailure;
      }
      env.idle = *idle;
    }
  } else {
    conditions["sensor"] = "none: every config is simulated";
  }
  conditions["shard"] = fmt::format("{}/{}", shard->index, shard->count);
  env.sampler = sampler.get();
  env.conditions = std::move(conditions);

  const bool bar = !a.no_progress_bar && (a.progress_bar || isatty(STDERR_FILENO) == 1);
  Progress progress(bar);
  auto summary = study::run_sweep(*s, cells, *store, env, &progress);
  if (sampler) sampler->stop();
  if (!summary) {
    if (bar) std::cerr << "\n";
    std::cerr << "jouleperf sweep: " << summary.error().to_string() << "\n";
    return summary.error().code == Errc::kInvalidArgument && summary.error().message.find("store") != std::string::npos
               ? kExitUsage
               : kExitFailure;
  }
  std::cout << fmt::format("sweep {}: {} cells ({} already stored, {} measured, {} skipped, {} FAILED) in {} -> {}\n",
                           s->name, summary->total, summary->resumed, summary->measured, summary->skipped,
                           summary->failed.size(), format_duration(summary->elapsed_s), a.store);
  if (!summary->ci_not_met.empty()) {
    std::cout << fmt::format("{} cell(s) reached --max-reps {} with a 95 % interval wider than {} % of the mean:\n",
                             summary->ci_not_met.size(), s->max_reps, *s->until_ci_pct);
    for (const auto& k : summary->ci_not_met) std::cout << "  " << study::to_string(k) << "\n";
  }
  if (summary->failed.empty()) return kExitOk;
  // Failures are failures: each failed cell, with its requests' reasons; a resumed sweep runs them again.
  for (const auto& key : summary->failed) {
    auto c = store->cell(key);
    std::cerr << "jouleperf sweep: FAILED " << study::to_string(key);
    if (c && c->has_value()) {
      std::cerr << ": " << (*c)->reason << "\n";
    } else {
      std::cerr << "\n";
    }
  }
  std::cerr << fmt::format(
      "jouleperf sweep: {} cell(s) failed and were stored as failed; run the sweep again to retry "
      "them\n",
      summary->failed.size());
  return kExitFailure;
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand(
      "sweep", "The controlled grid (configs x input x output x batch) into a resumable results store (docs/study.md)");
  cmd->add_option("study", a->study_file, "Study file (YAML); without it, one config from the flags");
  cmd->add_option("--store", a->store, "Results store (SQLite file, created if absent; a sweep resumes into it)")
      ->required();
  cmd->add_option("--config-name", a->config_name, "One-config grid: its name")->capture_default_str();
  cmd->add_option("--engine", a->engine, "One-config grid: llamacpp (default), sim or openai");
  cmd->add_option("--model,-m", a->model, "One-config grid: GGUF path (llamacpp), architecture (sim), served name");
  cmd->add_option("--weight-type", a->weight_type,
                  "One-config grid: f16, bf16, q8_0, q4_0 (checked against the model)");
  cmd->add_option("--strategy", a->strategy, "One-config grid: greedy (default) or sample");
  cmd->add_option("--batching", a->batching, "One-config grid: static (default)");
  cmd->add_option("--threads,-t", a->threads, "One-config grid: CPU threads (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option(
      "--setting", a->settings,
      "One-config grid: engine setting KEY=VALUE (repeatable), e.g. hardware=h100-sxm, stack=vllm, url=...");
  cmd->add_option("--request-deadline", a->request_deadline_s,
                  "One-config grid, engine openai: a request not ended this long after it was sent fails, s "
                  "(the setting request_deadline_s; default max(60, timeout_s + (I + O) / 1 token/s))")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input,-I", a->input, "Input lengths: 128,512 or 32..8192 (powers of two); default 128");
  cmd->add_option("--output,-O", a->output, "Output lengths, as --input; default 32");
  cmd->add_option("--batch,-B", a->batch, "Batch sizes, as --input; default 1");
  cmd->add_option("--warmup", a->warmup, "Warm-up batches per cell (default: up to 20, fewer for large cells)");
  cmd->add_option("--reps", a->reps, "Measured repetitions per cell (default 3)")->check(CLI::PositiveNumber);
  cmd->add_option("--idle-gap", a->idle_gap_s, "Cool-down between cells, s (default 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->seed, "Prompt seed (repetition r uses seed + r)");
  cmd->add_option("--order", a->order,
                  "Repetition order: rep-major (default: round r runs repetition r of every cell, alternating) or "
                  "cell-major");
  cmd->add_option("--until-ci", a->until_ci_pct,
                  "Add repetitions to a cell until its 95 % interval is within PCT % of the mean (or --max-reps)");
  cmd->add_option("--max-reps", a->max_reps, "Cap on repetitions per cell with --until-ci (default 20)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-cells", a->max_cells,
                  "Refuse a grid of more cells than this (default: sized to this machine's memory)")
      ->capture_default_str();
  cmd->add_option("--shard", a->shard, "Run shard i of n (0 <= i < n): the cells at grid positions p with p % n == i")
      ->capture_default_str();
  cmd->add_option("--idle", a->idle_s, "Measure idle power for S seconds first (energy above idle)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", a->idle_power_w, "Idle power to subtract, W")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--progress", a->progress_bar, "Progress bar even when stderr is not a terminal");
  cmd->add_flag("--no-progress", a->no_progress_bar, "Log lines even on a terminal");
  add_sensor_flags(cmd, a->flags);
  add_prompt_flags(cmd, a->prompts);
  cmd->callback([a, &ctx] {
    // The prompt flags are one-config settings (a study file sets them in its configs).
    for (const auto& [k, v] : prompt_settings(a->prompts)) a->settings.push_back(k + "=" + v);
    ctx.exit_code = run_sweep_command(*a);
  });
}

}  // namespace jouleperf::cli
