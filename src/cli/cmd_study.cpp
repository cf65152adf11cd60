// jouleperf study [FILE]: the whole study end to end. With no file, the main job (what
// `make demo` runs): a synthetic model in an unoptimized baseline and optimized
// configurations, swept over the bins the embedded Azure workloads occupy (scaled down),
// the workload estimates against the FLOPs ideal, the savings, an online replay against
// offline batching, the validation of the estimate, a simulated-GPU section, and the
// HTML report. With a study file: its sweep, the estimates on the embedded workloads,
// and the report.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/host.hpp"
#include "jouleperf/estimate/ideal.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/model/synth.hpp"
#include "jouleperf/report/html.hpp"
#include "jouleperf/report/report_data.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/study/config_check.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/main_job.hpp"
#include "jouleperf/study/online.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/sweep.hpp"
#include "jouleperf/study/validate.hpp"
#include "jouleperf/workload/arrivals.hpp"
#include "sensor_flags.hpp"
#include "sim_flags.hpp"
#include "sweep_progress.hpp"

namespace jouleperf::cli {
namespace {

namespace fs = std::filesystem;

struct StudyArgs {
  std::string file;
  std::string out = "out/study";
  SensorFlags flags;
  double idle_s = 2.0;
  std::uint32_t max_batch = 8;
  std::uint32_t reps = 3;
  std::uint32_t warmup = 1;
  std::size_t replay_requests = 32;
  double replay_rate = 8.0;
  std::size_t validation_requests = 24;
  bool no_simulated = false;
  std::uint64_t seed = 1;
  bool progress_bar = false;
  bool no_progress_bar = false;
  std::uint64_t max_cells = study::default_max_cells();
  std::string measurements;   // --measurements: overrides a study file's `measurements`
  double until_ci_pct = 5.0;  // main job: more repetitions until the 95 % interval is this % of the mean (0 = off)
  std::uint32_t max_reps = 20;
};

double now_unix() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// A failed step: printed, and the command's exit code.
int fail(const std::string& step, const Error& e) {
  std::cerr << "jouleperf study: " << step << ": " << e.to_string() << "\n";
  return e.code == Errc::kInvalidArgument || e.code == Errc::kParse ? kExitUsage : kExitFailure;
}

void step(int k, int n, const std::string& what) { std::cerr << fmt::format("\n[{}/{}] {}\n", k, n, what); }

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
Result<double> probe_energy(const study::Config& config, Sampler& sampler, const Clock& clock, std::uint64_t input,
                            std::uint64_t output, std::uint64_t batch, int reps) {
  auto engine = study::open_engine(config);
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

// The CPU's rated power and peak for the FLOPs-ideal baseline: this host's CPU profile
// (hardware/host_profile.hpp: peak from /proc/cpuinfo at the config's thread count) with
// the CPU-time model's full-load power as its TDP, the watts every estimated cell is in.
Result<estimate::DeviceRating> host_rating(const SensorFlags& flags, const std::string& weight_type, int threads) {
  CpuModelOptions o;
  o.idle_w = flags.cpu_idle_w;
  o.max_w = flags.cpu_max_w;
  auto p = resolve_cpu_power_params(o);
  if (!p) return p.error();
  hardware::HostProfileOptions ho;
  ho.threads = threads;
  ho.idle_w = p->idle_w;
  ho.max_w = p->max_w;
  ho.power_basis = "the CPU-time model's idle and full-load power";
  auto profile = hardware::read_host_cpu_profile("/proc/cpuinfo", "/proc/meminfo", ho);
  if (!profile) return profile.error();
  auto precision = estimate::precision_for_weight_type(weight_type);
  if (!precision) return precision.error();
  return estimate::rating_from_profile(*profile, *precision);
}

Result<ModelInfo> model_of(const study::Config& c) {
  if (auto a = find_builtin_arch(c.model); a.ok()) return info_from_arch(*a);
  return read_gguf_info(c.model);
}

// What the FLOPs-ideal baseline needs per config: the architecture, and the device's TDP
// and peak — the named hardware profile for simulated configs, this host's CPU otherwise.
std::vector<estimate::ConfigInputs> config_inputs(const std::vector<study::Config>& configs, const SensorFlags& flags) {
  hardware::HardwareRegistry registry;
  std::vector<estimate::ConfigInputs> out;
  for (const auto& c : configs) {
    estimate::ConfigInputs in;
    in.config = c;
    if (auto m = model_of(c); m)
      in.model = *m;
    else
      in.ideal_note = m.error().message;
    if (auto hw = c.setting("hardware")) {
      auto prof = registry.find(*hw);
      auto prec = estimate::precision_for_weight_type(c.weight_type);
      if (prof && prec) {
        if (auto r = estimate::rating_from_profile(*prof, *prec); r) in.device = *r;
      }
      if (!in.device) in.ideal_note += (in.ideal_note.empty() ? "" : "; ") + std::string("no rating for ") + *hw;
    } else if (auto r = host_rating(flags, c.weight_type, c.threads); r) {
      in.device = *r;
    } else {
      in.ideal_note += (in.ideal_note.empty() ? "" : "; ") + r.error().message;
    }
    out.push_back(std::move(in));
  }
  return out;
}

// Writes the HTML report of `store` to `path`; returns its absolute path.
Result<std::string> write_report(const study::Store& store, const fs::path& path) {
  auto data = report::load_report_data(store);
  if (!data) return data.error();
  auto html = report::html_report(*data);
  if (!html) return html.error();
  if (auto st = write_file_atomic(path.string(), *html); !st) return st.error();
  std::error_code ec;
  return fs::absolute(path, ec).string();
}

struct WorkloadRun {
  study::ScaledWorkload workload;
  estimate::WorkloadEstimate estimate;
};

// Estimates every config of `configs` on a workload and stores the document.
Result<estimate::WorkloadEstimate> estimate_and_store(study::Store& store, const estimate::WorkloadBins& bins,
                                                      const estimate::RequestLengths& lengths,
                                                      const std::string& lengths_source,
                                                      const std::vector<estimate::ConfigInputs>& inputs,
                                                      const std::vector<study::CellResult>& cells,
                                                      const estimate::LengthScale& scale, const std::string& baseline,
                                                      const std::string& artifact_name) {
  estimate::EstimateOptions eo;
  auto w = estimate::estimate_workload(bins, &lengths, inputs, cells, eo, estimate::CarbonOptions{}, baseline);
  if (!w) return w.error();
  w->scale = scale;
  w->lengths_source = lengths_source;
  study::Artifact a{"estimate", artifact_name, estimate::to_json(*w), now_unix()};
  if (auto st = store.put_artifact(a); !st) return st.error();
  return w;
}

void print_estimate(const std::string& title, const estimate::WorkloadEstimate& w) {
  fmt::print("\n{}: {} requests in {} bins\n", title, w.workload.requests, w.workload.bins.size());
  fmt::print("  {:<22} {:>12} {:>12} {:>12} {:>10} {:>24} {:>13}\n", "config", "Wh/1k req", "corrected", "ideal Wh/1k",
             "x ideal", "saving (95 % paired)", "J/out token");
  for (const auto& c : w.configs) {
    const double k = 1000.0 / std::max<double>(1.0, static_cast<double>(c.estimate.requests));
    const std::string corrected =
        c.estimate.corrected ? fmt::format("{:.4g}", c.estimate.corrected->value_j / 3600.0 * k) : "-";
    const std::string ideal = c.ideal ? fmt::format("{:.3g}", c.ideal->energy_j / 3600.0 * k) : "-";
    const std::string above =
        c.ideal && c.ideal->energy_j > 0 ? fmt::format("{:.0f}x", c.estimate.paper.value_j / c.ideal->energy_j) : "-";
    std::string saving = c.saving_pct ? fmt::format("{:.1f}%", *c.saving_pct) : "-";
    if (c.saving_pct && c.saving_lo_pct && c.saving_hi_pct)
      saving += fmt::format(" ({:.1f} to {:.1f})", *c.saving_lo_pct, *c.saving_hi_pct);
    fmt::print("  {:<22} {:>12.4g} {:>12} {:>12} {:>10} {:>24} {:>13.4g}\n", c.estimate.config, c.per_1000_requests_wh,
               corrected, ideal, above, saving, c.per_output_token_j);
  }
  for (const auto& r : w.refused) fmt::print("  refused {}: {}\n", r.config, r.message);
}

// A measurements file compared with the simulator (docs/fidelity.md), before anything
// runs so that a bad file stops the study at once; the document is stored as the
// "fidelity" artifact the report shows. A null document without a file.
Result<nlohmann::json> fidelity_of(const std::string& measurements) {
  if (measurements.empty()) return nlohmann::json();
  ServingFlags f;
  f.measurements = measurements;
  auto check = check_fidelity(f);
  if (!check) return check.error();
  return check->document;
}

Status store_fidelity(study::Store& store, const nlohmann::json& fidelity) {
  if (fidelity.is_null()) return {};
  // One name: a later study with another file replaces the comparison instead of adding one.
  return store.put_artifact({"fidelity", "study", fidelity, now_unix()});
}

int run_main_job(const StudyArgs& a) {
  constexpr int kSteps = 9;
  const double started = now_unix();
  auto fidelity = fidelity_of(a.measurements);
  if (!fidelity) return fail("measurements", fidelity.error());
  std::error_code ec;
  const fs::path out(a.out);
  fs::create_directories(out / "models", ec);
  if (ec) return fail("output directory", make_error(Errc::kIo, fmt::format("{}: {}", a.out, ec.message())));
  const std::string store_path = (out / "results.db").string();
  auto store = study::Store::open(store_path);
  if (!store) return fail("results store", store.error());
  if (auto st = store_fidelity(*store, *fidelity); !st) return fail("results store", st.error());
  const study::MainJobScale scale;

  step(1, kSteps, "sensors and idle power");
  SteadyClock clock;
  auto sampler = start_sampler(a.flags, clock, "study");
  if (!sampler) return kExitFailure;
  const auto [estimated, sensors] = summarize_sampler(*sampler);
  const std::string sensor_note =
      estimated ? "No hardware energy sensor was read on this machine: every energy here is ESTIMATED from CPU time "
                  "(the CPU-time power model, docs/sensors.md). Ratios between configurations are meaningful; "
                  "absolute joules are not measurements."
                : "Energies are measured by " + sensors + ".";
  std::cerr << sensor_note << "\n";
  std::optional<IdleBaseline> idle;
  if (a.idle_s > 0) {
    auto m = measure_idle(*sampler, Seconds(a.idle_s));
    if (!m) return fail("idle baseline", m.error());
    idle = *m;
    std::cerr << fmt::format("idle power {:.2f} W ({})\n", idle->total_power_w, idle->basis);
  }

  step(2, kSteps, "synthetic models (tiny preset: f32 baseline, q8_0 quantized)");
  auto f32 = ensure_model(out / "models", "f32");
  if (!f32) return fail("model synth", f32.error());
  auto q8 = ensure_model(out / "models", "q8_0");
  if (!q8) return fail("model synth", q8.error());
  std::cerr << *f32 << "\n" << *q8 << "\n";

  step(3, kSteps, "the best thread count (a probe cell on q8_0 at the largest batch)");
  int best_threads = 1;
  {
    auto stored = store->artifacts("study");
    if (!stored) return fail("results store", stored.error());
    bool found = false;
    for (const auto& art : *stored) {
      if (art.name == "threads-probe") {
        const auto it = art.body.find("best_threads");
        if (it == art.body.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() < 1 ||
            it->get<std::uint64_t>() > 4096)
          return fail("results store",
                      make_error(Errc::kParse, fmt::format("{}: artifact study/threads-probe: best_threads must be a "
                                                           "whole number from 1 to 4096 (remove the store to start "
                                                           "over)",
                                                           store_path)));
        best_threads = static_cast<int>(it->get<std::uint64_t>());
        found = true;
      }
    }
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    if (!found) {
      nlohmann::json probe = {{"cell", {{"input_tokens", 32}, {"output_tokens", 16}, {"batch", a.max_batch}}},
                              {"energy_per_batch_j", nlohmann::json::object()}};
      double best = 0.0;
      for (int t = 1; t <= static_cast<int>(std::min(hw, 4u)); t *= 2) {
        auto configs = study::main_job_configs({*f32, *q8}, a.max_batch, t);
        study::Config c = configs.back();
        c.threads = t;
        auto e = probe_energy(c, *sampler, clock, 32, 16, a.max_batch, 2);
        if (!e) return fail("thread probe", e.error());
        probe["energy_per_batch_j"][std::to_string(t)] = *e;
        std::cerr << fmt::format("  {} thread(s): {:.3f} J per batch\n", t, *e);
        if (t == 1 || *e < best) {
          best = *e;
          best_threads = t;
        }
      }
      probe["best_threads"] = best_threads;
      probe["energy_source"] = estimated ? "cpu-time-model" : "measured";
      probe["estimated"] = estimated;
      if (auto st = store->put_artifact({"study", "threads-probe", probe, now_unix()}); !st)
        return fail("results store", st.error());
    }
    std::cerr << fmt::format("best thread count: {}\n", best_threads);
  }

  step(4, kSteps, "the sweep (" + scale.note() + ")");
  const auto configs = study::main_job_configs({*f32, *q8}, a.max_batch, best_threads);
  auto plan = study::main_job_study(configs, scale, a.warmup, a.reps);
  // The sensor's resolution, not the method, sets a short cell's spread (the CPU-time
  // model counts 10 ms ticks): repetitions are cheap there, so they are added until the
  // interval is narrow, which keeps the savings stable from one run to the next.
  if (a.until_ci_pct > 0.0 && a.reps >= 2) {
    plan.until_ci_pct = a.until_ci_pct;
    plan.max_reps = std::max(a.max_reps, a.reps);
  }
  if (auto st = study::validate_study(plan); !st) return fail("study", st.error());
  if (auto st = study::prepare_study(plan); !st) return fail("study", st.error());
  const auto cells = study::expand_grid(plan);
  study::SweepEnv env;
  env.clock = &clock;
  env.sampler = sampler.get();
  env.idle = idle;
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  nlohmann::json sensor = nlohmann::json::object();
  for (const auto& [k, v] : sampler->conditions()) sensor[k] = v;
  conditions["sensor"] = sensor;
  env.conditions = conditions;
  const bool bar = !a.no_progress_bar && (a.progress_bar || isatty(STDERR_FILENO) == 1);
  Progress progress(bar);
  auto swept = study::run_sweep(plan, cells, *store, env, &progress);
  if (!swept) return fail("sweep", swept.error());
  if (auto st = study::no_failed_cells(*swept); !st) return fail("sweep", st.error());
  std::cerr << fmt::format("{} cells: {} already stored, {} measured, {} skipped, in {}\n", swept->total,
                           swept->resumed, swept->measured, swept->skipped, format_duration(swept->elapsed_s));
  auto stored_cells = store->cells();
  if (!stored_cells) return fail("results store", stored_cells.error());

  step(5, kSteps, "workload estimates, the FLOPs-ideal baseline and the savings");
  const auto inputs = config_inputs(configs, a.flags);
  std::vector<WorkloadRun> runs;
  for (const char* name : {"azure-conv-2023", "azure-code-2023"}) {
    auto w = workload::find_default_workload(name);
    if (!w) return fail("workload", w.error());
    auto sw = study::scale_default_workload(**w, scale);
    if (!sw) return fail("workload", sw.error());
    const estimate::LengthScale ls{1.0 / scale.input_divisor, 1.0 / scale.output_divisor};
    auto est = estimate_and_store(*store, sw->bins, sw->scaled, sw->lengths_source, inputs, *stored_cells, ls,
                                  "baseline", sw->name);
    if (!est) return fail("estimate " + sw->name, est.error());
    if (auto st = store->put_artifact({"lengths", sw->name, study::lengths_document(*sw), now_unix()}); !st)
      return fail("results store", st.error());
    print_estimate(sw->name + " (scaled)", *est);
    runs.push_back({std::move(*sw), std::move(*est)});
  }

  // The optimized config that serves and is validated: the batched one at the best threads.
  const study::Config& served = configs.back();
  step(6, kSteps,
       fmt::format("online replay: {} requests of azure-conv-2023 (scaled), Poisson {} req/s, on {}", a.replay_requests,
                   a.replay_rate, served.name));
  {
    auto engine = study::open_engine(served);
    if (!engine) return fail("replay", engine.error());
    std::mt19937_64 rng(a.seed);
    const auto& lengths = runs.front().workload.scaled;
    auto picked = study::pick_validation_requests(runs.front().workload.bins, lengths, a.replay_requests, a.seed + 7);
    std::shuffle(picked.begin(), picked.end(), rng);
    auto times = workload::poisson_arrivals(a.replay_rate, picked.size(), rng);
    if (!times) return fail("replay", times.error());
    std::vector<ServeRequest> reqs;
    for (std::size_t k = 0; k < picked.size(); ++k) {
      reqs.push_back({(*times)[k], lengths.inputs[picked[k]], lengths.outputs[picked[k]], a.seed + k});
    }
    for (auto mode : {BatchingMode::kContinuous, BatchingMode::kStatic}) {
      study::OnlineOptions oo;
      oo.config = served.name;
      oo.arrivals = fmt::format("Poisson {:g} req/s, seed {}", a.replay_rate, a.seed);
      oo.online.batching = mode;
      oo.online.max_batch = a.max_batch;
      oo.offline_batch = a.max_batch;
      oo.slo.ttft_s = 2.0;
      oo.slo.e2e_s = 10.0;
      oo.idle = idle;
      auto cmp = study::online_vs_offline(**engine, *sampler, clock, reqs, oo);
      if (!cmp) return fail("replay", cmp.error());
      const std::string name = fmt::format("{}/{}/azure-conv-2023", served.name, batching_name(mode));
      if (auto st = store->put_artifact({"replay", name, cmp->replay, now_unix()}); !st)
        return fail("results store", st.error());
      if (auto st = store->put_artifact({"power-trace", name, cmp->power_trace, now_unix()}); !st)
        return fail("results store", st.error());
      const auto& r = cmp->replay;
      std::cerr << fmt::format(
          "  {} online: {:.1f} s, {:.2f} J/request, e2e p50 {:.2f} s p99 {:.2f} s, SLO met {:.0f}%; offline static "
          "batches: {:.2f} J/request\n",
          batching_name(mode), r["duration_s"].get<double>(), r["per_request_j"].get<double>(),
          r["latency_s"]["e2e"]["p50"].get<double>(), r["latency_s"]["e2e"]["p99"].get<double>(),
          100.0 * r["slo_attainment"].get<double>(), r["offline"]["per_request_j"].get<double>());
    }
  }

  step(7, kSteps,
       fmt::format("validation: {} real-length requests per workload (each bin rounded up to whole batches), "
                   "run {} times and measured, against the estimates",
                   a.validation_requests, a.reps));
  std::vector<nlohmann::json> validations;
  for (const auto& run : runs) {
    for (const auto* c : {&configs.front(), &served}) {
      auto engine = study::open_engine(*c);
      if (!engine) return fail("validation", engine.error());
      study::ValidationOptions vo;
      vo.config = c->name;
      vo.batch = c->setting("batches") ? std::stoull(*c->setting("batches")) : 1;
      for (const auto& s : configs)
        if (s.name != c->name && s.model == c->model && s.threads == c->threads) vo.siblings.push_back(s.name);
      vo.requests = a.validation_requests;
      vo.repetitions = a.reps;
      vo.warmup_batches = a.warmup;
      vo.seed = a.seed;
      vo.idle = idle;
      auto v = study::validate_estimate(**engine, *sampler, clock, run.workload.bins, run.workload.scaled,
                                        *stored_cells, vo);
      if (!v) return fail("validation", v.error());
      if (auto st = store->put_artifact({"validation", c->name + "/" + run.workload.name, *v, now_unix()}); !st)
        return fail("results store", st.error());
      std::cerr << fmt::format(
          "  {} on {}: measured {:.1f} J; paper estimate {:+.1f}%, per-request {:+.1f}%, corrected {:+.1f}%\n", c->name,
          run.workload.name, (*v)["measured_energy_j"].get<double>(), (*v)["paper_error_pct"].get<double>(),
          (*v)["per_request_error_pct"].get<double>(), (*v)["corrected_error_pct"].get<double>());
      validations.push_back(*v);
    }
  }
  sampler->stop();

  if (!a.no_simulated) {
    step(8, kSteps, "simulated GPU: Llama-3.1-8B on an A6000, hf-eager against vllm (SIMULATED, not measured)");
    auto sim_configs = study::simulated_gpu_configs();
    study::Study sim;
    sim.name = "simulated-gpu";
    sim.configs = sim_configs;
    sim.input_tokens = {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    sim.input_tokens.erase(sim.input_tokens.begin() + 1);  // the paper's edges: 32, 128, ... 8192
    sim.output_tokens = {8, 16, 32, 64, 128, 256, 512};
    sim.batch_sizes = {1};
    sim.warmup.fixed = 0;
    sim.repetitions = 1;
    if (auto st = study::validate_study(sim); !st) return fail("simulated study", st.error());
    if (auto st = study::prepare_study(sim); !st) return fail("simulated study", st.error());
    study::SweepEnv senv;
    senv.clock = &clock;
    senv.conditions = {{"sensor", "none: simulated"}};
    auto sres = study::run_sweep(sim, study::expand_grid(sim), *store, senv, nullptr);
    if (!sres) return fail("simulated sweep", sres.error());
    auto all = store->cells();
    if (!all) return fail("results store", all.error());
    const auto sin = config_inputs(sim_configs, a.flags);
    for (const auto& run : runs) {
      auto w = workload::find_default_workload(run.workload.name);
      if (!w) return fail("workload", w.error());
      const auto real = estimate::lengths_from_default(**w);
      workload::BinningOptions bo;  // the paper's edges, real lengths
      auto bins = estimate::bin_lengths(real, bo, run.workload.name, "embedded:" + run.workload.name);
      if (!bins) return fail("simulated estimate", bins.error());
      auto est =
          estimate_and_store(*store, *bins, real, run.workload.lengths_source, sin, *all, estimate::LengthScale{},
                             sim_configs.front().name, run.workload.name + " (simulated a6000)");
      if (!est) return fail("simulated estimate", est.error());
      print_estimate(run.workload.name + " on a simulated A6000 (SIMULATED)", *est);
    }
  } else {
    step(8, kSteps, "simulated GPU: skipped (--no-simulated)");
  }

  step(9, kSteps, "the report");
  nlohmann::json summary = {{"title", "jouleperf study: the main job"},
                            {"scale_note", scale.note()},
                            {"sensor_note", sensor_note},
                            {"started_unix_s", started},
                            {"finished_unix_s", now_unix()},
                            {"host", conditions}};
  if (auto st = store->put_artifact({"study", "summary", summary, now_unix()}); !st)
    return fail("results store", st.error());
  auto report_path = write_report(*store, out / "report.html");
  if (!report_path) return fail("report", report_path.error());

  fmt::print("\n== jouleperf study: summary ==\n{}\n{}\n", sensor_note, scale.note());
  for (const auto& run : runs) print_estimate(run.workload.name + " (scaled)", run.estimate);
  fmt::print("\nvalidation (real-length requests run and measured):\n");
  for (const auto& v : validations) {
    const auto below = v.value("below_resolution_windows", std::uint64_t{0});
    const auto drift = v.find("reference_drift_pct");
    std::string notes;
    if (drift != v.end() && drift->is_number())
      notes += fmt::format("  machine drift since the sweep {:+.1f}%", drift->get<double>());
    if (below > 0)
      notes += fmt::format("  ({} of {} windows below the sensor's resolution)", below,
                           v.value("measured_windows", std::uint64_t{0}));
    fmt::print(
        "  {:<22} {:<16} {:>3} requests  measured {:>9.2f} J  paper {:+6.1f}%  per-request {:+6.1f}%  "
        "corrected {:+6.1f}%{}\n",
        v["config"].get<std::string>(), v["workload"].get<std::string>(), v["requests"].get<std::size_t>(),
        v["measured_energy_j"].get<double>(), v["paper_error_pct"].get<double>(),
        v.value("per_request_error_pct", v["corrected_error_pct"].get<double>()),
        v["corrected_error_pct"].get<double>(), notes);
  }
  fmt::print("\nstudy took {}; results in {}\nreport: {}\n", format_duration(now_unix() - started), store_path,
             *report_path);
  return kExitOk;
}

// A study file: its sweep into OUT/results.db, the estimates of both embedded workloads
// binned on the study's own lengths (unscaled), and the report.
int run_file_study(const StudyArgs& a) {
  auto plan = study::load_study_file(a.file, {}, a.max_cells);
  if (!plan) return fail("study file", plan.error());
  // Engine settings checked and model paths made absolute before the store is touched.
  if (auto st = study::prepare_study(*plan); !st) return fail("study file", st.error());
  const std::string measurements = a.measurements.empty() ? plan->measurements : a.measurements;
  auto fidelity = fidelity_of(measurements);
  if (!fidelity) return fail("measurements", fidelity.error());
  std::error_code ec;
  const fs::path out(a.out);
  fs::create_directories(out, ec);
  if (ec) return fail("output directory", make_error(Errc::kIo, fmt::format("{}: {}", a.out, ec.message())));
  const std::string store_path = (out / "results.db").string();
  auto store = study::Store::open(store_path);
  if (!store) return fail("results store", store.error());
  if (auto st = store_fidelity(*store, *fidelity); !st) return fail("results store", st.error());
  SteadyClock clock;
  study::SweepEnv env;
  env.clock = &clock;
  std::unique_ptr<Sampler> sampler;
  bool measured = false;
  for (const auto& c : plan->configs) measured = measured || c.engine != "sim";
  std::string sensor_note = "Every config is simulated: nothing was measured.";
  if (measured) {
    sampler = start_sampler(a.flags, clock, "study");
    if (!sampler) return kExitFailure;
    const bool estimated = summarize_sampler(*sampler).estimated;
    sensor_note = estimated ? "No hardware energy sensor was read: measured configs' energies are ESTIMATED from "
                              "CPU time (docs/sensors.md)."
                            : "Energies of measured configs come from hardware sensors.";
    if (a.idle_s > 0) {
      auto m = measure_idle(*sampler, Seconds(a.idle_s));
      if (!m) return fail("idle baseline", m.error());
      env.idle = *m;
    }
  }
  env.sampler = sampler.get();
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  env.conditions = conditions;
  const bool bar = !a.no_progress_bar && (a.progress_bar || isatty(STDERR_FILENO) == 1);
  Progress progress(bar);
  auto swept = study::run_sweep(*plan, study::expand_grid(*plan), *store, env, &progress);
  if (sampler) sampler->stop();
  if (!swept) return fail("sweep", swept.error());
  if (auto st = study::no_failed_cells(*swept); !st) return fail("sweep", st.error());
  auto cells = store->cells();
  if (!cells) return fail("results store", cells.error());
  const auto inputs = config_inputs(plan->configs, a.flags);
  for (const auto& w : workload::default_workloads()) {
    const auto real = estimate::lengths_from_default(w);
    workload::BinningOptions bo;
    bo.input_edges = plan->input_tokens;
    bo.output_edges = plan->output_tokens;
    std::sort(bo.input_edges.begin(), bo.input_edges.end());
    std::sort(bo.output_edges.begin(), bo.output_edges.end());
    auto bins = estimate::bin_lengths(real, bo, std::string(w.name), "embedded:" + std::string(w.name));
    if (!bins) return fail("estimate", bins.error());
    auto est = estimate_and_store(*store, *bins, real, "drawn inside the embedded bins", inputs, *cells,
                                  estimate::LengthScale{}, "", std::string(w.name));
    if (!est) return fail("estimate " + std::string(w.name), est.error());
    print_estimate(std::string(w.name), *est);
  }
  nlohmann::json summary = {{"title", "jouleperf study: " + plan->name},
                            {"scale_note", "lengths as measured, binned on the study's own lengths"},
                            {"sensor_note", sensor_note},
                            {"host", conditions},
                            {"finished_unix_s", now_unix()}};
  if (auto st = store->put_artifact({"study", "summary", summary, now_unix()}); !st)
    return fail("results store", st.error());
  auto path = write_report(*store, out / "report.html");
  if (!path) return fail("report", path.error());
  fmt::print("\nresults in {}\nreport: {}\n", store_path, *path);
  return kExitOk;
}

}  // namespace

void add_study_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<StudyArgs>();
  auto* cmd = app.add_subcommand("study",
                                 "the whole study end to end: sweep, estimates, FLOPs ideal, savings, replay, "
                                 "validation, report (no FILE: the main job on embedded defaults)");
  cmd->add_option("file", a->file, "study file (YAML, docs/study.md); none: the main job");
  cmd->add_option("--out", a->out, "output directory: results.db, models/, report.html")->capture_default_str();
  add_sensor_flags(cmd, a->flags);
  cmd->add_option("--idle", a->idle_s, "measure idle power for this long first, s (0: none)")->capture_default_str();
  cmd->add_option("--max-batch", a->max_batch, "batch size of the batched configurations")->capture_default_str();
  cmd->add_option("--reps", a->reps, "measured batches per cell (and measured passes per validation)")
      ->capture_default_str();
  cmd->add_option("--warmup", a->warmup, "warm-up batches per cell (and per bin of a validation)")
      ->capture_default_str();
  cmd->add_option("--until-ci", a->until_ci_pct,
                  "main job: repetitions are added to a cell until the half-width of its 95 % interval is below "
                  "this percentage of its mean, or --max-reps (0, or --reps 1: exactly --reps)")
      ->capture_default_str();
  cmd->add_option("--max-reps", a->max_reps, "main job: the cap with --until-ci")->capture_default_str();
  cmd->add_option("--replay-requests", a->replay_requests, "requests in the online replay")->capture_default_str();
  cmd->add_option("--replay-rate", a->replay_rate, "Poisson arrival rate of the online replay, req/s")
      ->capture_default_str();
  cmd->add_option("--validation-requests", a->validation_requests, "real-length requests run per validation")
      ->capture_default_str();
  cmd->add_flag("--no-simulated", a->no_simulated, "skip the simulated-GPU section");
  cmd->add_option("--measurements", a->measurements,
                  "published steady-state serving measurements (CSV, docs/fidelity.md): the report compares the "
                  "simulator with them (overrides a study file's `measurements`)");
  cmd->add_option("--seed", a->seed, "seed of request choices, arrivals and prompts")->capture_default_str();
  cmd->add_option("--max-cells", a->max_cells,
                  "refuse a study file whose grid has more cells than this (default: sized to this machine's memory)")
      ->capture_default_str();
  cmd->add_flag("--progress-bar", a->progress_bar, "draw the progress bar even when stderr is not a terminal");
  cmd->add_flag("--no-progress-bar", a->no_progress_bar, "plain log lines even on a terminal");
  cmd->callback([a, &ctx] { ctx.exit_code = a->file.empty() ? run_main_job(*a) : run_file_study(*a); });
}

}  // namespace jouleperf::cli
