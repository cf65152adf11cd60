#include "jouleperf/study/study_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "jouleperf/core/host.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/model/synth.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/study/config_check.hpp"
#include "jouleperf/study/main_job.hpp"
#include "jouleperf/study/online.hpp"
#include "jouleperf/study/validate.hpp"
#include "jouleperf/workload/arrivals.hpp"
#include "jouleperf/workload/default_workloads.hpp"

namespace jouleperf::study {

namespace {

namespace fs = std::filesystem;

constexpr int kSteps = 9;

double now_unix() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// An error with the step that failed in front of its message.
Error in_step(const std::string& step, const Error& e) { return make_error(e.code, step + ": " + e.message); }

bool sampler_estimated(const Sampler& sampler) {
  for (std::size_t i = 0; i < sampler.size(); ++i)
    if (sampler.info(i).caps.estimated) return true;
  return false;
}

std::string sampler_sensors(const Sampler& sampler) {
  std::string out;
  for (std::size_t i = 0; i < sampler.size(); ++i)
    out += (out.empty() ? "" : ", ") + sampler.info(i).name + " " + sampler.info(i).domain;
  return out;
}

nlohmann::json host_json() {
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  return conditions;
}

// Writes the synthetic model unless the file is there.
Result<std::string> ensure_model(const fs::path& dir, const std::string& type) {
  const fs::path path = dir / fmt::format("tiny-{}.gguf", type);
  std::error_code ec;
  if (fs::exists(path, ec)) return path.string();
  auto cfg = synth_preset("tiny");
  if (!cfg) return cfg.error();
  auto wt = parse_weight_type(type);
  if (!wt) return wt.error();
  cfg->type = *wt;
  cfg->vocab_path = default_vocab_path();
  cfg->name = "jouleperf-tiny-" + type;
  // Atomic (write_synthetic_gguf): a killed study leaves no half model behind.
  auto info = write_synthetic_gguf(*cfg, path.string());
  if (!info) return info.error();
  return path.string();
}

// Energy per batch of one cell shape on a config, mean of `reps` after one warm-up.
Result<double> probe_energy(const Config& config, Sampler& sampler, const Clock& clock, std::uint64_t input,
                            std::uint64_t output, std::uint64_t batch, int reps) {
  auto engine = open_engine(config);
  if (!engine) return engine.error();
  BatchRequest r;
  r.batch = batch;
  r.input_tokens = input;
  r.output_tokens = output;
  if (auto w = (*engine)->run_batch(r, clock, nullptr); !w) return w.error();
  double sum = 0.0;
  for (int k = 0; k < reps; ++k) {
    Meter meter(sampler);
    auto b = (*engine)->run_batch(r, clock, &meter);
    if (!b) return b.error();
    auto m = meter.stop();
    if (!m) return m.error();
    sum += m->total.energy_j;
  }
  return sum / reps;
}

// Estimates every config of `inputs` on a workload and stores the document.
Result<estimate::WorkloadEstimate> estimate_and_store(Store& store, const estimate::WorkloadBins& bins,
                                                      const estimate::RequestLengths& lengths,
                                                      const std::string& lengths_source,
                                                      const std::vector<estimate::ConfigInputs>& inputs,
                                                      const std::vector<CellResult>& cells,
                                                      const estimate::LengthScale& scale, const std::string& baseline,
                                                      const std::string& artifact_name) {
  estimate::EstimateOptions eo;
  auto w = estimate::estimate_workload(bins, &lengths, inputs, cells, eo, estimate::CarbonOptions{}, baseline);
  if (!w) return w.error();
  w->scale = scale;
  w->lengths_source = lengths_source;
  Artifact a{"estimate", artifact_name, estimate::to_json(*w), now_unix()};
  if (auto st = store.put_artifact(a); !st) return st.error();
  return w;
}

std::vector<estimate::ConfigInputs> ideal_inputs(const std::vector<Config>& configs, std::optional<double> idle_w,
                                                 std::optional<double> max_w) {
  return estimate::flops_ideal_inputs(configs, ideal_device_options(idle_w, max_w));
}

// The store's fidelity comparison is this run's: the run's document replaces what an
// earlier run stored, and a run without a measurements file (null) removes it, so the
// report never shows a comparison this run did not ask for (docs/study.md). Artifacts of
// stores written before "one per store" (named after their file) go too.
Status store_fidelity(Store& store, const nlohmann::json& fidelity) {
  constexpr const char* kName = "study";
  auto stored = store.artifacts("fidelity");
  if (!stored) return in_step("results store", stored.error());
  for (const auto& a : *stored) {
    if (a.name == kName && !fidelity.is_null()) continue;  // replaced below
    if (auto st = store.remove_artifact(a.kind, a.name); !st) return in_step("results store", st.error());
  }
  if (fidelity.is_null()) return {};
  if (auto st = store.put_artifact({"fidelity", kName, fidelity, now_unix()}); !st)
    return in_step("results store", st.error());
  return {};
}

Status store_summary(Store& store, nlohmann::json summary) {
  if (auto st = store.put_artifact({"study", "summary", std::move(summary), now_unix()}); !st)
    return in_step("results store", st.error());
  return {};
}

std::string sweep_line(const SweepSummary& s) {
  return fmt::format("{} cells: {} already stored, {} measured, {} skipped, in {}", s.total, s.resumed, s.measured,
                     s.skipped, format_duration(s.elapsed_s));
}

// The main job's state from one step to the next.
struct Job {
  const MainJobOptions& o;
  Store& store;
  Sampler& sampler;
  const Clock& clock;
  StudyProgress& progress;
  StudyRunResult r;
  MainJobScale scale;
  bool estimated = false;
  std::optional<IdleBaseline> idle;
  std::string f32, q8;
  int best_threads = 1;
  std::vector<Config> configs;
  std::vector<CellResult> cells;
  nlohmann::json conditions;
  std::vector<ScaledWorkload> workloads;

  Job(const MainJobOptions& options, Store& s, Sampler& sa, const Clock& c, StudyProgress& p)
      : o(options), store(s), sampler(sa), clock(c), progress(p) {}
  void step(int k, const std::string& what) { progress.on_step(k, kSteps, what); }
  void log(const std::string& line) { progress.on_log(line); }
  Status put(const std::string& kind, const std::string& name, nlohmann::json body) {
    if (auto st = store.put_artifact({kind, name, std::move(body), now_unix()}); !st)
      return in_step("results store", st.error());
    return {};
  }
};

Status sensors_and_idle(Job& j) {
  j.step(1, "sensors and idle power");
  j.estimated = sampler_estimated(j.sampler);
  j.r.sensor_note =
      j.estimated ? "No hardware energy sensor was read on this machine: every energy here is ESTIMATED from CPU time "
                    "(the CPU-time power model, docs/sensors.md). Ratios between configurations are meaningful; "
                    "absolute joules are not measurements."
                  : "Energies are measured by " + sampler_sensors(j.sampler) + ".";
  j.log(j.r.sensor_note);
  if (j.o.idle_s <= 0) return {};
  auto m = measure_idle(j.sampler, Seconds(j.o.idle_s));
  if (!m) return in_step("idle baseline", m.error());
  j.idle = *m;
  j.log(fmt::format("idle power {:.2f} W ({})", j.idle->total_power_w, j.idle->basis));
  return {};
}

Status synthetic_models(Job& j) {
  j.step(2, "synthetic models (tiny preset: f32 baseline, q8_0 quantized)");
  const fs::path models = fs::path(j.o.out) / "models";
  auto f32 = ensure_model(models, "f32");
  if (!f32) return in_step("model synth", f32.error());
  auto q8 = ensure_model(models, "q8_0");
  if (!q8) return in_step("model synth", q8.error());
  j.f32 = *f32;
  j.q8 = *q8;
  j.log(j.f32);
  j.log(j.q8);
  return {};
}

// The stored probe's best thread count, or nullopt when none is stored.
Result<std::optional<int>> stored_threads(Job& j) {
  auto stored = j.store.artifacts("study");
  if (!stored) return in_step("results store", stored.error());
  std::optional<int> best;
  for (const auto& art : *stored) {
    if (art.name != "threads-probe") continue;
    const auto it = art.body.find("best_threads");
    if (it == art.body.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() < 1 ||
        it->get<std::uint64_t>() > 4096)
      return make_error(Errc::kParse,
                        fmt::format("results store: {}: artifact study/threads-probe: best_threads must be a whole "
                                    "number from 1 to 4096 (remove the store to start over)",
                                    j.r.store_path));
    best = static_cast<int>(it->get<std::uint64_t>());
  }
  return best;
}

Status probe_threads(Job& j) {
  nlohmann::json probe = {{"cell", {{"input_tokens", 32}, {"output_tokens", 16}, {"batch", j.o.max_batch}}},
                          {"energy_per_batch_j", nlohmann::json::object()}};
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  double best = 0.0;
  for (int t = 1; t <= static_cast<int>(std::min(hw, 4u)); t *= 2) {
    Config c = main_job_configs({j.f32, j.q8}, j.o.max_batch, t).back();
    c.threads = t;
    auto e = probe_energy(c, j.sampler, j.clock, 32, 16, j.o.max_batch, 2);
    if (!e) return in_step("thread probe", e.error());
    probe["energy_per_batch_j"][std::to_string(t)] = *e;
    j.log(fmt::format("  {} thread(s): {:.3f} J per batch", t, *e));
    if (t == 1 || *e < best) {
      best = *e;
      j.best_threads = t;
    }
  }
  probe["best_threads"] = j.best_threads;
  probe["energy_source"] = j.estimated ? "cpu-time-model" : "measured";
  probe["estimated"] = j.estimated;
  return j.put("study", "threads-probe", probe);
}

Status best_threads(Job& j) {
  j.step(3, "the best thread count (a probe cell on q8_0 at the largest batch)");
  auto stored = stored_threads(j);
  if (!stored) return stored.error();
  if (*stored) {
    j.best_threads = **stored;
  } else if (auto st = probe_threads(j); !st) {
    return st;
  }
  j.log(fmt::format("best thread count: {}", j.best_threads));
  return {};
}

Status the_sweep(Job& j) {
  j.step(4, "the sweep (" + j.scale.note() + ")");
  j.configs = main_job_configs({j.f32, j.q8}, j.o.max_batch, j.best_threads);
  auto plan = main_job_study(j.configs, j.scale, j.o.warmup, j.o.reps);
  // The sensor's resolution, not the method, sets a short cell's spread (the CPU-time
  // model counts 10 ms ticks): repetitions are cheap there, so they are added until the
  // interval is narrow, which keeps the savings stable from one run to the next.
  if (j.o.until_ci_pct > 0.0 && j.o.reps >= 2) {
    plan.until_ci_pct = j.o.until_ci_pct;
    plan.max_reps = std::max(j.o.max_reps, j.o.reps);
  }
  if (auto st = validate_study(plan); !st) return in_step("study", st.error());
  if (auto st = prepare_study(plan); !st) return in_step("study", st.error());
  SweepEnv env;
  env.clock = &j.clock;
  env.sampler = &j.sampler;
  env.idle = j.idle;
  j.conditions = host_json();
  nlohmann::json sensor = nlohmann::json::object();
  for (const auto& [k, v] : j.sampler.conditions()) sensor[k] = v;
  j.conditions["sensor"] = sensor;
  env.conditions = j.conditions;
  auto swept = run_sweep(plan, expand_grid(plan), j.store, env, &j.progress);
  if (!swept) return in_step("sweep", swept.error());
  if (auto st = no_failed_cells(*swept); !st) return in_step("sweep", st.error());
  j.r.sweep = *swept;
  j.log(sweep_line(*swept));
  auto cells = j.store.cells();
  if (!cells) return in_step("results store", cells.error());
  j.cells = std::move(*cells);
  return {};
}

Status workload_estimates(Job& j) {
  j.step(5, "workload estimates, the FLOPs-ideal baseline and the savings");
  const auto inputs = ideal_inputs(j.configs, j.o.cpu_idle_w, j.o.cpu_max_w);
  for (const char* name : {"azure-conv-2023", "azure-code-2023"}) {
    auto w = workload::find_default_workload(name);
    if (!w) return in_step("workload", w.error());
    auto sw = scale_default_workload(**w, j.scale);
    if (!sw) return in_step("workload", sw.error());
    const estimate::LengthScale ls{1.0 / j.scale.input_divisor, 1.0 / j.scale.output_divisor};
    auto est = estimate_and_store(j.store, sw->bins, sw->scaled, sw->lengths_source, inputs, j.cells, ls, "baseline",
                                  sw->name);
    if (!est) return in_step("estimate " + sw->name, est.error());
    if (auto st = j.put("lengths", sw->name, lengths_document(*sw)); !st) return st;
    j.log(fmt::format("{} (scaled): {} requests in {} bins", sw->name, est->workload.requests,
                      est->workload.bins.size()));
    j.r.estimates.push_back({sw->name + " (scaled)", std::move(*est)});
    j.workloads.push_back(std::move(*sw));
  }
  return {};
}

Result<std::vector<ServeRequest>> replay_requests(const Job& j) {
  std::mt19937_64 rng(j.o.seed);
  const auto& w = j.workloads.front();
  auto picked = pick_validation_requests(w.bins, w.scaled, j.o.replay_requests, j.o.seed + 7);
  std::shuffle(picked.begin(), picked.end(), rng);
  auto times = workload::poisson_arrivals(j.o.replay_rate, picked.size(), rng);
  if (!times) return times.error();
  std::vector<ServeRequest> reqs;
  for (std::size_t k = 0; k < picked.size(); ++k)
    reqs.push_back({(*times)[k], w.scaled.inputs[picked[k]], w.scaled.outputs[picked[k]], j.o.seed + k});
  return reqs;
}

Status replay_one(Job& j, Engine& engine, const std::vector<ServeRequest>& reqs, BatchingMode mode) {
  const Config& served = j.configs.back();
  OnlineOptions oo;
  oo.config = served.name;
  oo.arrivals = fmt::format("Poisson {:g} req/s, seed {}", j.o.replay_rate, j.o.seed);
  oo.online.batching = mode;
  oo.online.max_batch = j.o.max_batch;
  oo.offline_batch = j.o.max_batch;
  oo.slo.ttft_s = 2.0;
  oo.slo.e2e_s = 10.0;
  oo.idle = j.idle;
  auto cmp = online_vs_offline(engine, j.sampler, j.clock, reqs, oo);
  if (!cmp) return in_step("replay", cmp.error());
  const std::string name = fmt::format("{}/{}/azure-conv-2023", served.name, batching_name(mode));
  if (auto st = j.put("replay", name, cmp->replay); !st) return st;
  if (auto st = j.put("power-trace", name, cmp->power_trace); !st) return st;
  const auto& r = cmp->replay;
  j.log(fmt::format(
      "  {} online: {:.1f} s, {:.2f} J/request, e2e p50 {:.2f} s p99 {:.2f} s, SLO met {:.0f}%; offline static "
      "batches: {:.2f} J/request",
      batching_name(mode), r["duration_s"].get<double>(), r["per_request_j"].get<double>(),
      r["latency_s"]["e2e"]["p50"].get<double>(), r["latency_s"]["e2e"]["p99"].get<double>(),
      100.0 * r["slo_attainment"].get<double>(), r["offline"]["per_request_j"].get<double>()));
  return {};
}

Status online_replay(Job& j) {
  // The optimized config that serves and is validated: the batched one at the best threads.
  const Config& served = j.configs.back();
  j.step(6, fmt::format("online replay: {} requests of azure-conv-2023 (scaled), Poisson {} req/s, on {}",
                        j.o.replay_requests, j.o.replay_rate, served.name));
  auto engine = open_engine(served);
  if (!engine) return in_step("replay", engine.error());
  auto reqs = replay_requests(j);
  if (!reqs) return in_step("replay", reqs.error());
  for (auto mode : {BatchingMode::kContinuous, BatchingMode::kStatic})
    if (auto st = replay_one(j, **engine, *reqs, mode); !st) return st;
  return {};
}

Status validate_one(Job& j, const ScaledWorkload& w, const Config& c) {
  auto engine = open_engine(c);
  if (!engine) return in_step("validation", engine.error());
  ValidationOptions vo;
  vo.config = c.name;
  vo.batch = c.setting("batches") ? std::stoull(*c.setting("batches")) : 1;
  for (const auto& s : j.configs)
    if (s.name != c.name && s.model == c.model && s.threads == c.threads) vo.siblings.push_back(s.name);
  vo.requests = j.o.validation_requests;
  vo.repetitions = j.o.reps;
  vo.warmup_batches = j.o.warmup;
  vo.seed = j.o.seed;
  vo.idle = j.idle;
  auto v = validate_estimate(**engine, j.sampler, j.clock, w.bins, w.scaled, j.cells, vo);
  if (!v) return in_step("validation", v.error());
  if (auto st = j.put("validation", c.name + "/" + w.name, *v); !st) return st;
  j.log(fmt::format("  {} on {}: measured {:.1f} J; paper estimate {:+.1f}%, per-request {:+.1f}%, corrected {:+.1f}%",
                    c.name, w.name, (*v)["measured_energy_j"].get<double>(), (*v)["paper_error_pct"].get<double>(),
                    (*v)["per_request_error_pct"].get<double>(), (*v)["corrected_error_pct"].get<double>()));
  j.r.validations.push_back(std::move(*v));
  return {};
}

Status validation(Job& j) {
  j.step(7, fmt::format("validation: {} real-length requests per workload (each bin rounded up to whole batches), "
                        "run {} times and measured, against the estimates",
                        j.o.validation_requests, j.o.reps));
  for (const auto& w : j.workloads)
    for (const auto* c : {&j.configs.front(), &j.configs.back()})
      if (auto st = validate_one(j, w, *c); !st) return st;
  return {};
}

Study simulated_study() {
  Study sim;
  sim.name = "simulated-gpu";
  sim.configs = simulated_gpu_configs();
  sim.input_tokens = {32, 128, 256, 512, 1024, 2048, 4096, 8192};  // the paper's edges
  sim.output_tokens = {8, 16, 32, 64, 128, 256, 512};
  sim.batch_sizes = {1};
  sim.warmup.fixed = 0;
  sim.repetitions = 1;
  return sim;
}

Status simulated_gpu(Job& j) {
  if (j.o.no_simulated) {
    j.step(8, "simulated GPU: skipped (--no-simulated)");
    return {};
  }
  j.step(8, "simulated GPU: Llama-3.1-8B on an A6000, hf-eager against vllm (SIMULATED, not measured)");
  Study sim = simulated_study();
  if (auto st = validate_study(sim); !st) return in_step("simulated study", st.error());
  if (auto st = prepare_study(sim); !st) return in_step("simulated study", st.error());
  SweepEnv senv;
  senv.clock = &j.clock;
  senv.conditions = {{"sensor", "none: simulated"}};
  auto sres = run_sweep(sim, expand_grid(sim), j.store, senv, nullptr);
  if (!sres) return in_step("simulated sweep", sres.error());
  auto all = j.store.cells();
  if (!all) return in_step("results store", all.error());
  const auto sin = ideal_inputs(sim.configs, j.o.cpu_idle_w, j.o.cpu_max_w);
  for (const auto& run : j.workloads) {
    auto w = workload::find_default_workload(run.name);
    if (!w) return in_step("workload", w.error());
    const auto real = estimate::lengths_from_default(**w);
    workload::BinningOptions bo;  // the paper's edges, real lengths
    auto bins = estimate::bin_lengths(real, bo, run.name, "embedded:" + run.name);
    if (!bins) return in_step("simulated estimate", bins.error());
    auto est = estimate_and_store(j.store, *bins, real, run.lengths_source, sin, *all, estimate::LengthScale{},
                                  sim.configs.front().name, run.name + " (simulated a6000)");
    if (!est) return in_step("simulated estimate", est.error());
    j.r.simulated.push_back({run.name + " on a simulated A6000 (SIMULATED)", std::move(*est)});
  }
  return {};
}

Status summary(Job& j) {
  j.step(9, "the report");
  j.r.finished_unix_s = now_unix();
  return store_summary(j.store, {{"title", "jouleperf study: the main job"},
                                 {"scale_note", j.r.scale_note},
                                 {"sensor_note", j.r.sensor_note},
                                 {"started_unix_s", j.r.started_unix_s},
                                 {"finished_unix_s", j.r.finished_unix_s},
                                 {"host", j.conditions}});
}

}  // namespace

estimate::IdealDeviceOptions ideal_device_options(std::optional<double> idle_w, std::optional<double> max_w) {
  CpuModelOptions o;
  o.idle_w = idle_w;
  o.max_w = max_w;
  estimate::IdealDeviceOptions out;
  auto p = resolve_cpu_power_params(o);
  if (!p) {
    out.host_power_error = p.error().message;
    return out;
  }
  out.host_idle_w = p->idle_w;
  out.host_max_w = p->max_w;
  return out;
}

Result<Store> open_output_store(const std::string& out, bool models) {
  std::error_code ec;
  fs::create_directories(models ? fs::path(out) / "models" : fs::path(out), ec);
  if (ec) return make_error(Errc::kIo, fmt::format("output directory: {}: {}", out, ec.message()));
  auto store = Store::open((fs::path(out) / "results.db").string());
  if (!store) return in_step("results store", store.error());
  return store;
}

Result<StudyRunResult> run_main_job(const MainJobOptions& options, Store& store, Sampler& sampler, const Clock& clock,
                                    StudyProgress& progress) {
  Job j(options, store, sampler, clock, progress);
  j.r.name = "the main job";
  j.r.started_unix_s = now_unix();
  j.r.store_path = (fs::path(options.out) / "results.db").string();
  j.r.scale_note = j.scale.note();
  if (auto st = store_fidelity(store, options.fidelity); !st) return st.error();
  for (auto* part :
       {sensors_and_idle, synthetic_models, best_threads, the_sweep, workload_estimates, online_replay, validation}) {
    if (auto st = part(j); !st) return st.error();
  }
  sampler.stop();
  for (auto* part : {simulated_gpu, summary}) {
    if (auto st = part(j); !st) return st.error();
  }
  return std::move(j.r);
}

Result<Study> load_file_study(const std::string& path, std::uint64_t max_cells) {
  auto plan = load_study_file(path, {}, max_cells);
  if (!plan) return in_step("study file", plan.error());
  // Engine settings checked and model paths made absolute before the store is touched.
  if (auto st = prepare_study(*plan); !st) return in_step("study file", st.error());
  return plan;
}

bool needs_sampler(const Study& plan) {
  return std::any_of(plan.configs.begin(), plan.configs.end(), [](const Config& c) { return c.engine != "sim"; });
}

namespace {

Result<TitledEstimate> file_estimate(const Study& plan, const workload::DefaultWorkload& w, Store& store,
                                     const std::vector<estimate::ConfigInputs>& inputs,
                                     const std::vector<CellResult>& cells) {
  const auto real = estimate::lengths_from_default(w);
  workload::BinningOptions bo;
  bo.input_edges = plan.input_tokens;
  bo.output_edges = plan.output_tokens;
  std::sort(bo.input_edges.begin(), bo.input_edges.end());
  std::sort(bo.output_edges.begin(), bo.output_edges.end());
  auto bins = estimate::bin_lengths(real, bo, std::string(w.name), "embedded:" + std::string(w.name));
  if (!bins) return in_step("estimate", bins.error());
  auto est = estimate_and_store(store, *bins, real, "drawn inside the embedded bins", inputs, cells,
                                estimate::LengthScale{}, "", std::string(w.name));
  if (!est) return in_step("estimate " + std::string(w.name), est.error());
  return TitledEstimate{std::string(w.name), std::move(*est)};
}

}  // namespace

Result<StudyRunResult> run_file_study(const Study& plan, const FileStudyOptions& options, Store& store,
                                      Sampler* sampler, const Clock& clock, StudyProgress& progress) {
  StudyRunResult r;
  r.name = plan.name;
  r.started_unix_s = now_unix();
  r.store_path = (fs::path(options.out) / "results.db").string();
  r.scale_note = "lengths as measured, binned on the study's own lengths";
  if (auto st = store_fidelity(store, options.fidelity); !st) return st.error();
  SweepEnv env;
  env.clock = &clock;
  r.sensor_note = "Every config is simulated: nothing was measured.";
  if (sampler != nullptr) {
    r.sensor_note = sampler_estimated(*sampler) ? "No hardware energy sensor was read: measured configs' energies are "
                                                  "ESTIMATED from CPU time (docs/sensors.md)."
                                                : "Energies of measured configs come from hardware sensors.";
    if (options.idle_s > 0) {
      auto m = measure_idle(*sampler, Seconds(options.idle_s));
      if (!m) return in_step("idle baseline", m.error());
      env.idle = *m;
    }
  }
  env.sampler = sampler;
  const nlohmann::json conditions = host_json();
  env.conditions = conditions;
  auto swept = run_sweep(plan, expand_grid(plan), store, env, &progress);
  if (sampler != nullptr) sampler->stop();
  if (!swept) return in_step("sweep", swept.error());
  if (auto st = no_failed_cells(*swept); !st) return in_step("sweep", st.error());
  r.sweep = *swept;
  auto cells = store.cells();
  if (!cells) return in_step("results store", cells.error());
  const auto inputs = ideal_inputs(plan.configs, options.cpu_idle_w, options.cpu_max_w);
  for (const auto& w : workload::default_workloads()) {
    auto est = file_estimate(plan, w, store, inputs, *cells);
    if (!est) return est.error();
    r.estimates.push_back(std::move(*est));
  }
  r.finished_unix_s = now_unix();
  if (auto st = store_summary(store, {{"title", "jouleperf study: " + plan.name},
                                      {"scale_note", r.scale_note},
                                      {"sensor_note", r.sensor_note},
                                      {"host", conditions},
                                      {"finished_unix_s", r.finished_unix_s}});
      !st)
    return st.error();
  return r;
}

}  // namespace jouleperf::study
