#include "jouleperf/study/sweep_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "jouleperf/core/host.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/study/config_check.hpp"
#include "jouleperf/study/machine_settings.hpp"
#include "jouleperf/study/shard_record.hpp"

namespace jouleperf::study {

namespace {

double now_unix_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool has_config_fields(const SweepSpec& a) {
  return !a.engine.empty() || !a.model.empty() || !a.weight_type.empty() || !a.strategy.empty() ||
         !a.batching.empty() || a.threads || !a.settings.empty() || a.request_deadline_s;
}

Result<Config> one_config(const SweepSpec& a) {
  Config c;
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
  return c;
}

Result<Study> base_study(const SweepSpec& a) {
  if (!a.study_file.empty()) {
    if (has_config_fields(a))
      return make_error(
          Errc::kInvalidArgument,
          "--engine/--model/--weight-type/--strategy/--batching/--threads/--setting/--request-deadline describe a "
          "one-config grid; with a study file, put them in its configs (request_deadline_s in settings)");
    return load_study_file(a.study_file, {}, a.max_cells);
  }
  auto c = one_config(a);
  if (!c) return c.error();
  Study s;
  s.configs.push_back(std::move(*c));
  s.input_tokens = {128};
  s.output_tokens = {32};
  s.batch_sizes = {1};
  return s;
}

Status apply_overrides(const SweepSpec& a, Study& s) {
  struct Axis {
    const std::string* flag;
    const char* name;
    std::vector<std::uint64_t>* out;
  };
  for (const Axis& ax :
       {Axis{&a.input, "--input", &s.input_tokens}, Axis{&a.output, "--output-tokens", &s.output_tokens},
        Axis{&a.batch, "--batch", &s.batch_sizes}}) {
    if (ax.flag->empty()) continue;
    auto v = parse_size_list(*ax.flag, ax.name);
    if (!v) return v.error();
    *ax.out = std::move(*v);
  }
  if (a.warmup) s.warmup.fixed = *a.warmup;
  if (a.reps) s.repetitions = *a.reps;
  if (a.idle_gap_s) s.idle_gap_s = *a.idle_gap_s;
  if (a.seed) s.seed = *a.seed;
  if (!a.order.empty()) {
    auto o = parse_run_order(a.order);
    if (!o) return o.error();
    s.order = *o;
  }
  if (a.until_ci_pct) s.until_ci_pct = *a.until_ci_pct;
  if (a.max_reps) s.max_reps = *a.max_reps;
  return {};
}

}  // namespace

Result<SweepPlan> plan_sweep(const SweepSpec& spec) {
  auto shard = resolve_shard(spec.shard, spec.shard_count, spec.env);
  if (!shard) return shard.error();
  auto s = base_study(spec);
  if (!s) return s.error();
  if (auto st = apply_overrides(spec, *s); !st) return st.error();
  if (auto st = validate_study(*s, spec.max_cells); !st) return st.error();
  if (auto st = validate(spec.thermal); !st) return st.error();
  // Engine settings checked and model paths made absolute before the store is touched.
  if (auto st = prepare_study(*s); !st) return st.error();
  SweepPlan plan{std::move(*s), {}, shard->shard, shard->source, false};
  plan.cells = select_shard(expand_grid(plan.study), shard->shard);
  plan.measured = std::any_of(plan.cells.begin(), plan.cells.end(),
                              [&](const GridCell& c) { return plan.study.configs[c.config_index].engine != "sim"; });
  return plan;
}

Result<SweepReport> run_sweep_plan(const SweepPlan& plan, const SweepSpec& spec, Store& store,
                                   const std::string& store_path, Sampler* sampler, const Clock& clock,
                                   SweepProgress* progress) {
  SweepEnv env;
  env.clock = &clock;
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  if (sampler != nullptr) {
    nlohmann::json sensor = nlohmann::json::object();
    for (const auto& [k, v] : sampler->conditions()) sensor[k] = v;
    conditions["sensor"] = sensor;
    if (spec.idle_power_w) {
      env.idle = given_idle(Watts(*spec.idle_power_w));
    } else if (spec.idle_s > 0) {
      auto idle = measure_idle(*sampler, Seconds(spec.idle_s));
      if (!idle) return make_error(idle.error().code, "idle baseline: " + idle.error().message);
      env.idle = *idle;
    }
  } else {
    conditions["sensor"] = "none: every config is simulated";
  }
  conditions["shard"] = fmt::format("{}/{}", plan.shard.index, plan.shard.count);
  auto scheduler = scheduler_provenance(spec.env);
  if (!scheduler.empty()) conditions["scheduler"] = scheduler;
  // The shard's record: unfinished until every cell of the shard is stored (merge checks it).
  auto record = begin_shard_record(plan.study, plan.shard, plan.cells.size(), conditions.value("hostname", ""),
                                   std::move(scheduler), now_unix_s());
  if (auto st = store.put_artifact(shard_artifact(record)); !st) return st.error();
  env.sampler = sampler;
  env.conditions = std::move(conditions);
  env.stop = spec.stop;
  // The thermal protocol's devices: the GPUs measured and the CPU's thermal zones.
  std::unique_ptr<DeviceWatch> watch;
  if (sampler != nullptr) {
    auto w = watch_devices(sampler, spec.nvml_library, spec.thermal_root, spec.hwmon_root, spec.thermal, clock);
    if (!w) return w.error();
    watch = std::move(*w);
  } else if (spec.thermal.gates()) {
    return make_error(Errc::kInvalidArgument,
                      "the thermal protocol (--cooldown-temp, --cooldown-s, --warmup-steady) is for measured "
                      "configurations; every one here is simulated");
  }
  env.devices = watch.get();
  env.thermal = spec.thermal;
  const double sweep_t0_s = clock.now().value();
  // Machine settings: checked before the first cell, applied per configuration through the
  // journal, every original restored at the end (also when the sweep fails).
  std::optional<MachineSettings> machine;
  if (std::any_of(plan.study.configs.begin(), plan.study.configs.end(), [](const Config& c) {
        auto s = machine_settings_of(c);
        return s && s->any();
      })) {
    MachineSettings::Roots roots{spec.cpufreq_root, spec.powercap_root, spec.nvml_library, {}};
    for (std::size_t i = 0; sampler != nullptr && i < sampler->size(); ++i)
      if (sampler->info(i).name == "nvml" && !sampler->info(i).device_uuid.empty())
        roots.gpu_uuids.push_back(sampler->info(i).device_uuid);
    auto m = MachineSettings::open(
        spec.settings_journal.empty() ? SettingsJournal::default_path() : spec.settings_journal, std::move(roots));
    if (!m) return m.error();
    if (auto st = m->check(plan.study); !st) return st.error();
    machine = std::move(*m);
    env.apply_settings = [&machine](const Config& c) { return machine->apply(c); };
  }
  auto summary = run_sweep(plan.study, plan.cells, store, env, progress);
  Status traced;
  if (watch && sampler != nullptr)  // power and temperatures over the sweep, for the report (kept when it failed)
    traced = store.put_artifact({"power-trace", fmt::format("sweep {}/{}", plan.shard.index, plan.shard.count),
                                 sweep_power_trace(*sampler, *watch, sweep_t0_s, clock.now().value(), 2000), 0.0});
  watch.reset();
  if (sampler != nullptr) sampler->stop();
  if (machine) {
    auto restored = machine->restore();
    if (!restored) return make_error(restored.error().code, "machine settings: " + restored.error().message);
  }
  if (!summary) return summary.error();
  if (!traced) return traced.error();
  record.finished = summary->failed.empty();
  record.failed_cells = summary->failed.size();
  record.ended_unix_s = now_unix_s();
  if (auto st = store.put_artifact(shard_artifact(record)); !st) return st.error();
  SweepReport r{plan.study.name, store_path, *summary, plan.study.max_reps, plan.study.until_ci_pct, {}};
  for (const auto& key : summary->failed) {
    auto c = store.cell(key);
    r.failed_reasons.push_back(c && c->has_value() ? (*c)->reason : "");
  }
  return r;
}

}  // namespace jouleperf::study
