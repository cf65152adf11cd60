// jouleperf sweep: the controlled grid (configs x I x O x B) into a resumable results
// store, from a study file or from flags; one shard of it with --shard i/n
// (study/sweep_spec.hpp). Each cell's row is written as it is stored.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "jouleperf/sensor/node_lock.hpp"
#include "jouleperf/study/sweep_spec.hpp"
#include "output_flags.hpp"
#include "prompt_flags.hpp"
#include "sensor_flags.hpp"
#include "settings_flags.hpp"
#include "sweep_progress.hpp"
#include "thermal_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "sweep";

struct SweepFlags {
  study::SweepSpec spec;
  std::string store;
  std::string node_lock = NodeLock::default_path();  // "none": no lock
  SettingsFlags settings;                            // the settings journal: put back what a killed run left
  SensorFlags sensors;
  ProgressFlags progress;
  OutputFlags out;
  PromptFlags prompts;  // one-config grid: settings prompt / prompts / prompts_field
};

// The old `--output LIST` (output lengths, now --output-tokens/-O): "32", "32,64", "32..8192".
LegacyOutput legacy_output_lengths(std::string& lengths) {
  return [&lengths](const std::string& value) {
    if (!study::parse_size_list(value, "--output-tokens")) return false;
    lengths = value;
    return true;
  };
}

// "jouleperf sweep: <error>", exit 1 whatever the error's code.
int failure(const Error& e) {
  std::cerr << "jouleperf sweep: " << e.to_string() << "\n";
  return kExitFailure;
}

// Failures are failures: each failed cell, with its requests' reasons; a resumed sweep runs them again.
int report_failed(const study::SweepReport& r) {
  for (const auto& line : study::sweep_failure_lines(r)) std::cerr << "jouleperf sweep: " << line << "\n";
  return r.summary.failed.empty() ? kExitOk : kExitFailure;
}

// A measured shard holds the node's lock while it measures (docs/cluster.md): the whole
// node, or only its GPUs when NVML restricted by CUDA_VISIBLE_DEVICES is all it reads. A
// second shard that needs what it holds waits, saying who holds it. Unset for "none".
Result<std::optional<NodeLock>> lock_node(const SweepFlags& f, const study::SweepPlan& plan, const Sampler& sampler) {
  if (f.node_lock == "none") return std::optional<NodeLock>{};
  std::vector<SensorInfo> infos;
  for (std::size_t i = 0; i < sampler.size(); ++i) infos.push_back(sampler.info(i));
  const NodeLockScope scope = node_lock_scope(infos, f.sensors.cuda_visible_devices.has_value());
  const std::string who =
      fmt::format("pid {}, shard {}/{}, store {}", ::getpid(), plan.shard.index, plan.shard.count, f.store);
  auto lock = NodeLock::acquire(f.node_lock, scope, who, std::nullopt, [](const NodeLockWait& w) {
    std::cerr << "jouleperf sweep: waiting for " << w.what << ": " << w.holder << " is measuring it (lock " << w.path
              << ")\n";
  });
  if (!lock) return lock.error();
  return std::optional<NodeLock>(std::move(*lock));
}

// What a measured plan measures with: the sampler, and the lock it holds.
struct Metering {
  std::unique_ptr<Sampler> sampler;
  std::optional<NodeLock> lock;
};

// Opens the sensors, takes the lock for them, then starts the sampler (a shard that waits
// reads nothing meanwhile). Nothing for a sim-only plan. False (said on stderr) on failure.
bool start_metering(const SweepFlags& f, const study::SweepPlan& plan, const Clock& clock, Metering& m) {
  if (!plan.measured) return true;
  m.sampler = open_sampler(f.sensors, clock, kCommand);
  if (!m.sampler) return false;
  auto lock = lock_node(f, plan, *m.sampler);
  if (!lock) {
    failure(lock.error());
    return false;
  }
  m.lock = std::move(*lock);
  // The node is ours: first put back what a killed jouleperf left changed (docs/controls.md).
  SettingsFlags settings = f.settings;
  settings.powercap_root = f.sensors.powercap_root;
  settings.nvml_lib = f.sensors.nvml_lib;
  if (auto st = restore_left_settings(settings, kCommand); !st) {
    failure(st.error());
    return false;
  }
  if (auto st = m.sampler->start(true); !st) {
    failure(st.error());
    return false;
  }
  return true;
}

int run(SweepFlags& f) {
  auto format = output_format(f.out, kCommand, legacy_output_lengths(f.spec.output));
  if (!format) return fail(kCommand, format.error());
  f.spec.env = [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  f.spec.settings_journal = f.settings.journal;  // machine settings go through the same journal
  f.spec.cpufreq_root = f.settings.cpufreq_root;
  f.spec.powercap_root = f.sensors.powercap_root;
  f.spec.nvml_library = f.sensors.nvml_lib;
  f.spec.stop = stop_on_signals();  // SIGINT/SIGTERM: stop after the batch, restore, exit 130
  auto plan = study::plan_sweep(f.spec);
  if (!plan) return fail(kCommand, plan.error(), /*parse_is_usage=*/true);
  f.store = study::store_path_for_shard(f.store, plan->shard);  // "results-{shard}.db": a store per shard
  if (f.spec.shard == "auto") std::cerr << "jouleperf sweep: " << plan->shard_source << ", store " << f.store << "\n";
  auto store = study::Store::open(f.store);
  if (!store) return failure(store.error());
  SteadyClock clock;
  Metering metering;
  if (!start_metering(f, *plan, clock, metering)) return kExitFailure;
  OutputSink sink(f.out);
  if (auto st = sink.open(); !st) return fail(kCommand, st.error());
  study::SweepRowStream rows(*format, [&sink](std::string_view text) { sink.write(text); });
  Progress progress(f.progress.draw_bar());
  progress.set_on_cell([&rows](const study::CellResult& c) { rows.add(c); });
  auto r = study::run_sweep_plan(*plan, f.spec, *store, f.store, metering.sampler.get(), clock, &progress);
  if (!r) {
    progress.end_line();
    if (f.spec.stop->load()) {  // SIGINT/SIGTERM: stopped after the batch, settings restored
      failure(r.error());
      return kExitInterrupted;
    }
    const bool usage = r.error().code == Errc::kInvalidArgument && r.error().message.find("store") != std::string::npos;
    return usage ? fail(kCommand, r.error()) : failure(r.error());
  }
  const auto tail = rows.finish(*r);
  for (const auto& line : tail.lines) {
    if (tail.to_sink)
      sink.write(line + "\n");
    else
      std::cerr << line << "\n";
  }
  return report_failed(*r);
}

void add_config_flags(CLI::App* cmd, study::SweepSpec& s) {
  cmd->add_option("--config-name", s.config_name, "One-config grid: its name")->capture_default_str();
  cmd->add_option("--engine", s.engine, "One-config grid: llamacpp (default), sim or openai");
  cmd->add_option("--model,-m", s.model, "One-config grid: GGUF path (llamacpp), architecture (sim), served name");
  cmd->add_option("--weight-type", s.weight_type, "One-config grid: f16, bf16, q8_0, q4_0 (checked against the model)");
  cmd->add_option("--strategy", s.strategy, "One-config grid: greedy (default) or sample");
  cmd->add_option("--batching", s.batching, "One-config grid: static (default)");
  cmd->add_option("--threads,-t", s.threads, "One-config grid: CPU threads (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_option(
      "--setting", s.settings,
      "One-config grid: engine setting KEY=VALUE (repeatable), e.g. hardware=h100-sxm, stack=vllm, url=...");
  cmd->add_option("--request-deadline", s.request_deadline_s,
                  "One-config grid, engine openai: a request not ended this long after it was sent fails, s "
                  "(the setting request_deadline_s; default max(60, timeout_s + (I + O) / 1 token/s))")
      ->check(CLI::PositiveNumber);
}

void add_grid_flags(CLI::App* cmd, study::SweepSpec& s) {
  cmd->add_option("--input,-I", s.input, "Input lengths: 128,512 or 32..8192 (powers of two); default 128");
  cmd->add_option("-O,--output-tokens", s.output,
                  "Output lengths, as --input; default 32 (the old spelling --output LIST still works)");
  cmd->add_option("--batch,-B", s.batch, "Batch sizes, as --input; default 1");
  cmd->add_option("--warmup", s.warmup, "Warm-up batches per cell (default: up to 20, fewer for large cells)");
  cmd->add_option("--reps", s.reps, "Measured repetitions per cell (default 3)")->check(CLI::PositiveNumber);
  cmd->add_option("--idle-gap", s.idle_gap_s, "Cool-down between cells, s (default 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", s.seed, "Prompt seed (repetition r uses seed + r)");
  cmd->add_option("--order", s.order,
                  "Repetition order: rep-major (default: round r runs repetition r of every cell, alternating) or "
                  "cell-major");
  cmd->add_option("--until-ci", s.until_ci_pct,
                  "Add repetitions to a cell until its 95 % interval is within PCT % of the mean (or --max-reps)");
  cmd->add_option("--max-reps", s.max_reps, "Cap on repetitions per cell with --until-ci (default 20)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-cells", s.max_cells,
                  "Refuse a grid of more cells than this (default: sized to this machine's memory)")
      ->capture_default_str();
  cmd->add_option("--shard", s.shard,
                  "Run shard i of n (0 <= i < n): the cells at grid positions p with p % n == i; auto: from the "
                  "scheduler (SLURM_ARRAY_TASK_ID, or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX)")
      ->capture_default_str();
  cmd->add_option("--shard-count", s.shard_count,
                  "With --shard auto: the number of shards (a Kubernetes pod does not see it; checked against Slurm's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--idle", s.idle_s, "Measure idle power for S seconds first (energy above idle)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", s.idle_power_w, "Idle power to subtract, W")->check(CLI::NonNegativeNumber);
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<SweepFlags>();
  auto* cmd = app.add_subcommand(
      "sweep", "The controlled grid (configs x input x output x batch) into a resumable results store (docs/study.md)");
  cmd->add_option("study", f->spec.study_file, "Study file (YAML); without it, one config from the flags");
  cmd->add_option("--store", f->store,
                  "Results store (SQLite file, created if absent; a sweep resumes into it); {shard} and {count} in "
                  "the name become the shard's index and the number of shards (a store per shard)")
      ->required();
  add_settings_flags(cmd, f->settings, /*roots=*/false);
  cmd->add_option("--cpufreq-root", f->settings.cpufreq_root, "cpufreq sysfs root (tests: a fake tree)")
      ->capture_default_str();
  cmd->add_option("--node-lock", f->node_lock,
                  "Measured sweeps hold this lock file while they measure, so two shards on one node never read its "
                  "sensors at once (the second waits); a shard that reads only its own GPUs (CUDA_VISIBLE_DEVICES) "
                  "shares it and locks PATH.GPU-<uuid> per GPU instead; none: no lock")
      ->capture_default_str();
  add_config_flags(cmd, f->spec);
  add_grid_flags(cmd, f->spec);
  add_progress_flags(cmd, f->progress);
  add_sensor_flags(cmd, f->sensors);
  add_thermal_flags(cmd, f->spec.thermal, f->spec.thermal_root, f->spec.hwmon_root);
  add_prompt_flags(cmd, f->prompts);
  add_output_flags(cmd, f->out);
  cmd->callback([f, &ctx] {
    // The prompt flags are one-config settings (a study file sets them in its configs).
    for (const auto& [k, v] : prompt_settings(f->prompts)) f->spec.settings.push_back(k + "=" + v);
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
