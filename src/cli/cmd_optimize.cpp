// jouleperf optimize: the simulated configuration that serves a workload with the least
// energy under TTFT / TPOT / end-to-end SLOs and a minimum throughput, the energy-latency
// Pareto front, and the savings against a named baseline. With --engine llamacpp: the
// candidates (model files x threads x max batch x batching) planned on the simulator, the
// top K and the baseline measured on llama.cpp, and prediction against measurement.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "jouleperf/core/host.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sim/optimize.hpp"
#include "jouleperf/sim/result_json.hpp"
#include "jouleperf/sim/stack_json.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/main_job.hpp"
#include "jouleperf/study/measured_optimize.hpp"
#include "jouleperf/study/store.hpp"
#include "jouleperf/study/sweep.hpp"
#include "jouleperf/workload/length_scale.hpp"
#include "jouleperf/workload/loader.hpp"
#include "sensor_flags.hpp"
#include "sim_flags.hpp"
#include "sweep_progress.hpp"

namespace jouleperf::cli {
namespace {

struct OptimizeFlags {
  DeploymentFlags deploy;  // model, profiles, router, token budget, memory, acceptance, draft
  WorkloadFlags work;
  std::vector<std::string> hardware;
  std::vector<std::uint32_t> devices{1, 2, 4};
  std::vector<std::uint32_t> tp{1, 2, 4, 8};
  std::vector<std::string> stacks{"hf-eager", "hf-compiled", "vllm"};
  std::vector<std::string> batching;
  std::vector<std::uint32_t> max_batch{32, 256};
  std::vector<std::string> decoding{"greedy", "spec"};
  std::vector<std::string> precisions{"bf16", "fp8"};
  std::uint32_t spec_tokens = 4;
  double slo_ttft = 0, slo_tpot = 0, slo_e2e = 0, min_throughput = 0;
  std::string baseline = "stack=hf-eager,batching=static,max-batch=16";
  unsigned threads = 0;
  std::size_t top = 10;
  double overload_s = 600;
  bool json = false;
  // --engine llamacpp (measured mode)
  std::string engine = "sim";
  std::vector<std::string> models;
  std::vector<int> cpu_threads{1};
  std::uint32_t scale_input = 1, scale_output = 1;  // length divisors
  std::string input_edges = "32..8192", output_edges = "8..512";
  std::size_t top_k = 3;
  std::string store;
  SensorFlags sensor;
  std::uint32_t reps = 3, warmup = 1;
  double idle_s = 0;
  bool max_batch_given = false, baseline_given = false;
  std::uint64_t max_cells = study::default_max_cells();  // --max-cells
};

// Refuses a search grid of more than `max_cells` configurations before one is built
// (the product of the axes' lengths, an upper bound on the candidates).
Status check_search_size(std::initializer_list<std::size_t> axes, std::uint64_t max_cells) {
  std::uint64_t n = 1;
  for (std::size_t a : axes)
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(a), &n)) n = UINT64_MAX;
  if (n <= max_cells) return {};
  return make_error(Errc::kInvalidArgument,
                    fmt::format("the search grid has up to {} configurations (the product of the lists tried), more "
                                "than --max-cells {} (docs/study.md, Limits): try fewer values",
                                n, max_cells));
}

namespace fs = std::filesystem;

int fail(const Error& e) {
  std::fprintf(stderr, "jouleperf optimize: %s\n", e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

// "key=value,key=value" over a base configuration: hardware, stack, batching, max-batch,
// precision, tp, devices, decoding (greedy|spec).
Result<sim::SimConfig> parse_baseline(const std::string& spec, const sim::SimConfig& base,
                                      const hardware::HardwareRegistry& reg, const sim::DecodingConfig& spec_dec) {
  sim::SimConfig c = base;
  std::uint32_t devices = 1;
  std::optional<sim::Batching> batching;
  std::stringstream ss(spec);
  std::string item;
  auto bad = [&](const std::string& why) {
    return make_error(Errc::kInvalidArgument, fmt::format("--baseline '{}': {}", spec, why));
  };
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return bad(fmt::format("'{}' is not key=value", item));
    const std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    auto uint = [&](std::uint32_t& out) -> Status {
      auto n = parse_u64(v);
      if (!n || *n == 0 || *n > 4096) return bad(fmt::format("{} must be a positive integer", k));
      out = static_cast<std::uint32_t>(*n);
      return {};
    };
    if (k == "hardware") {
      auto h = reg.find(v);
      if (!h) return bad(h.error().message);
      c.hardware = *h;
      c.power = sim::default_power_model(h->kind);
    } else if (k == "stack") {
      auto s = sim::find_stack(v);
      if (!s) return bad(s.error().message);
      c.stack = *s;
    } else if (k == "batching") {
      auto b = sim::parse_batching(v);
      if (!b) return bad(b.error().message);
      batching = *b;
    } else if (k == "max-batch") {
      if (auto st = uint(c.max_batch); !st) return st.error();
    } else if (k == "tp") {
      if (auto st = uint(c.tp); !st) return st.error();
    } else if (k == "devices") {
      if (auto st = uint(devices); !st) return st.error();
    } else if (k == "precision") {
      auto p = sim::parse_weight_precision(v);
      if (!p) return bad(p.error().message);
      c.precision = *p;
    } else if (k == "decoding") {
      if (v == "greedy")
        c.decoding = sim::DecodingConfig{};
      else if (v == "spec")
        c.decoding = spec_dec;
      else
        return bad("decoding must be greedy or spec");
    } else {
      return bad(
          fmt::format("unknown key '{}' (hardware, stack, batching, max-batch, tp, devices, precision, "
                      "decoding)",
                      k));
    }
  }
  c.batching = batching ? *batching : c.stack.batching;
  if (devices % c.tp != 0) return bad("devices must be a multiple of tp");
  c.replicas = devices / c.tp;
  return c;
}

nlohmann::json to_json(const sim::Evaluated& e) {
  return {{"label", e.label},
          {"config", sim::to_json(e.config)},
          {"ran", e.ran},
          {"feasible", e.feasible},
          {"why", e.why},
          {"devices", e.devices},
          {"energy_j", e.energy_j},
          {"energy_per_request_j", e.energy_per_request_j},
          {"ttft_p99_s", e.ttft_p99_s},
          {"tpot_p99_s", e.tpot_p99_s},
          {"e2e_p99_s", e.e2e_p99_s},
          {"throughput_rps", e.throughput_rps},
          {"peak_sequences", e.peak_sequences},
          {"reused", e.reused},
          {"pareto", e.pareto}};
}

void print_row(const sim::Evaluated& e) {
  fmt::print("  {:<58} {:>10.2f} {:>9.1f} {:>9.1f} {:>9.2f}\n", e.label, e.energy_per_request_j, e.ttft_p99_s * 1e3,
             e.tpot_p99_s * 1e3, e.e2e_p99_s);
}

int run(const OptimizeFlags& f) {
  auto registry = load_registry(f.deploy);
  if (!registry) return fail(registry.error());
  auto model = resolve_model(f.deploy.model);
  if (!model) return fail(model.error());

  sim::SearchSpace space;
  if (f.hardware.empty()) {
    for (const auto& p : registry->profiles())
      if (p.kind == hardware::DeviceKind::kGpu) space.hardware.push_back(p);
  } else {
    for (const auto& n : f.hardware) {
      auto p = registry->find(n);
      if (!p) return fail(make_error(Errc::kInvalidArgument, p.error().message));
      space.hardware.push_back(*p);
    }
  }
  space.devices = f.devices;
  space.tp = f.tp;
  space.max_batch = f.max_batch;
  for (const auto& s : f.stacks) {
    auto st = sim::find_stack(s);
    if (!st) return fail(make_error(Errc::kInvalidArgument, st.error().message));
    space.stacks.push_back(*st);
  }
  for (const auto& b : f.batching) {
    auto m = sim::parse_batching(b);
    if (!m) return fail(m.error());
    space.batching.push_back(*m);
  }
  space.precisions.clear();
  for (const auto& p : f.precisions) {
    auto w = sim::parse_weight_precision(p);
    if (!w) return fail(w.error());
    space.precisions.push_back(*w);
  }
  sim::DecodingConfig spec_dec;
  spec_dec.spec_tokens = f.spec_tokens;
  spec_dec.spec_acceptance = f.deploy.spec_acceptance;
  auto draft = resolve_model(f.deploy.draft);
  if (!draft) return fail(draft.error());
  spec_dec.draft = *draft;
  space.decoding.clear();
  for (const auto& d : f.decoding) {
    if (d == "greedy")
      space.decoding.push_back(sim::DecodingChoice{});
    else if (d == "spec")
      space.decoding.push_back(sim::DecodingChoice{fmt::format("spec{}", f.spec_tokens), spec_dec});
    else
      return fail(make_error(Errc::kInvalidArgument, fmt::format("--decoding '{}': greedy or spec", d)));
  }

  // Settings shared by every candidate come from the deployment flags.
  if (space.hardware.empty() || space.stacks.empty())
    return fail(make_error(Errc::kInvalidArgument, "give at least one hardware profile and one stack"));
  sim::SimConfig base = sim::make_config(space.hardware.front(), space.stacks.front(), *model);
  auto router = sim::parse_router(f.deploy.router);
  if (!router) return fail(router.error());
  base.router = *router;
  if (f.deploy.token_budget > 0) base.token_budget = f.deploy.token_budget;
  base.chunked_prefill = !f.deploy.no_chunked_prefill;
  base.memory_utilization = f.deploy.memory_utilization;
  base.static_wait_s = f.deploy.static_wait_s;
  if (auto st = check_search_size({space.hardware.size(), space.devices.size(), space.tp.size(), space.stacks.size(),
                                   std::max<std::size_t>(1, space.batching.size()), space.max_batch.size(),
                                   space.decoding.size(), space.precisions.size()},
                                  f.max_cells);
      !st)
    return fail(st.error());
  const std::vector<sim::SimConfig> grid = sim::expand(space, base);

  std::optional<sim::SimConfig> baseline;
  if (!f.baseline.empty() && f.baseline != "none") {
    auto b = parse_baseline(f.baseline, base, *registry, spec_dec);
    if (!b) return fail(b.error());
    baseline = *b;
  }
  sim::Slo slo;
  if (f.slo_ttft > 0) slo.ttft_p99_s = f.slo_ttft;
  if (f.slo_tpot > 0) slo.tpot_p99_s = f.slo_tpot;
  if (f.slo_e2e > 0) slo.e2e_p99_s = f.slo_e2e;
  if (f.min_throughput > 0) slo.min_throughput_rps = f.min_throughput;

  std::string described;
  auto reqs = load_workload(f.work, described);
  if (!reqs) return fail(reqs.error());
  const unsigned threads = f.threads > 0 ? f.threads : std::max(1u, std::thread::hardware_concurrency());
  auto r = sim::optimize(grid, *reqs, slo, baseline, threads, f.overload_s);
  if (!r) return fail(r.error());

  if (f.json) {
    nlohmann::json j{
        {"simulated", true},
        {"workload", described},
        {"model", model->arch.name},
        {"configurations", r->candidates.size()},
        {"ran", r->ran},
        {"simulated_runs", r->simulated_runs},
        {"feasible", r->feasible},
        {"wall_s", r->wall_s},
        {"threads", threads},
        {"slo",
         {{"ttft_p99_s", f.slo_ttft > 0 ? nlohmann::json(f.slo_ttft) : nlohmann::json(nullptr)},
          {"tpot_p99_s", f.slo_tpot > 0 ? nlohmann::json(f.slo_tpot) : nlohmann::json(nullptr)},
          {"e2e_p99_s", f.slo_e2e > 0 ? nlohmann::json(f.slo_e2e) : nlohmann::json(nullptr)},
          {"min_throughput_rps", f.min_throughput > 0 ? nlohmann::json(f.min_throughput) : nlohmann::json(nullptr)}}}};
    j["best"] = r->best ? to_json(r->candidates[*r->best]) : nlohmann::json(nullptr);
    nlohmann::json front = nlohmann::json::array();
    for (std::size_t i : r->pareto) front.push_back(to_json(r->candidates[i]));
    j["pareto"] = front;
    j["baseline"] = r->baseline ? to_json(*r->baseline) : nlohmann::json(nullptr);
    j["savings_vs_baseline"] =
        r->best && r->baseline ? nlohmann::json(r->savings_vs_baseline) : nlohmann::json(nullptr);
    nlohmann::json all = nlohmann::json::array();
    for (const auto& e : r->candidates) all.push_back(to_json(e));
    j["candidates"] = all;
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("SIMULATED — a model, not a measurement (docs/simulator.md; unvalidated on GPUs)\n");
  fmt::print("model {}; workload {}\n", model->arch.name, described);
  fmt::print(
      "searched {} configurations ({} accepted by the simulator, {} feasible; {} simulations, the rest "
      "identical to a larger max batch) in {:.1f} s on {} threads\n",
      r->candidates.size(), r->ran, r->feasible, r->simulated_runs, r->wall_s, threads);
  fmt::print("SLOs: TTFT p99 {}, TPOT p99 {}, e2e p99 {}, throughput {}\n",
             f.slo_ttft > 0 ? fmt::format("<= {:g} s", f.slo_ttft) : "-",
             f.slo_tpot > 0 ? fmt::format("<= {:g} s", f.slo_tpot) : "-",
             f.slo_e2e > 0 ? fmt::format("<= {:g} s", f.slo_e2e) : "-",
             f.min_throughput > 0 ? fmt::format(">= {:g} req/s", f.min_throughput) : "-");
  fmt::print("\n  {:<58} {:>10} {:>9} {:>9} {:>9}\n", "configuration", "J/request", "TTFT99ms", "TPOT99ms", "e2e99 s");
  if (!r->best) {
    fmt::print("  no configuration meets the constraints\n");
  } else {
    fmt::print("minimum energy:\n");
    print_row(r->candidates[*r->best]);
    fmt::print("energy-latency Pareto front (p99 end-to-end):\n");
    for (std::size_t i : r->pareto) print_row(r->candidates[i]);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < r->candidates.size(); ++i)
      if (r->candidates[i].feasible) order.push_back(i);
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return r->candidates[a].energy_j < r->candidates[b].energy_j; });
    fmt::print("top {} by energy:\n", std::min(f.top, order.size()));
    for (std::size_t k = 0; k < std::min(f.top, order.size()); ++k) print_row(r->candidates[order[k]]);
  }
  if (r->baseline) {
    fmt::print("baseline:\n");
    if (r->baseline->ran) {
      print_row(*r->baseline);
      if (!r->baseline->feasible) fmt::print("    (misses: {})\n", r->baseline->why);
      if (r->best)
        fmt::print("savings against the baseline: {:.1f}% of its energy per request\n", 100.0 * r->savings_vs_baseline);
    } else {
      fmt::print("  {}: {}\n", r->baseline->label, r->baseline->why);
    }
  }
  return kExitOk;
}

// ---- The measured mode (--engine llamacpp): plan with the simulator, measure the top K.

// The workload's bins for the measured mode: an embedded workload (lengths drawn inside
// its bins) or a trace's own lengths, divided by the scale divisors and binned on the
// divided edges (requests past the last edge excluded).
struct MeasuredWorkload {
  estimate::WorkloadBins bins;
  estimate::RequestLengths lengths;  // scaled
  std::string lengths_source;
};

Result<MeasuredWorkload> measured_workload(const OptimizeFlags& f) {
  if (!f.work.trace.empty() && !f.work.workload.empty())
    return make_error(Errc::kInvalidArgument, "give --trace or --workload, not both");
  auto in_edges = study::parse_size_list(f.input_edges, "--input-edges");
  if (!in_edges) return in_edges.error();
  auto out_edges = study::parse_size_list(f.output_edges, "--output-edges");
  if (!out_edges) return out_edges.error();
  study::MainJobScale scale;
  scale.input_edges = *in_edges;
  scale.output_edges = *out_edges;
  scale.input_divisor = f.scale_input;
  scale.output_divisor = f.scale_output;
  if (auto st = study::validate_scale(scale); !st)
    return make_error(Errc::kInvalidArgument,
                      "--input-edges/--output-edges with --scale-input/--scale-output: " + st.error().message);
  MeasuredWorkload out;
  if (f.work.trace.empty()) {
    const std::string name = f.work.workload.empty() ? "azure-conv-2023" : f.work.workload;
    auto w = workload::find_default_workload(name);
    if (!w) return make_error(Errc::kInvalidArgument, w.error().message);
    auto scaled = study::scale_default_workload(**w, scale);
    if (!scaled) return scaled.error();
    out.bins = std::move(scaled->bins);
    out.lengths = std::move(scaled->scaled);
    out.lengths_source = scaled->lengths_source;
    return out;
  }
  estimate::RequestLengths real;
  auto loaded = workload::load_trace(f.work.trace, workload::LoadOptions{}, [&](const workload::Request& r) {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
    real.inputs.push_back(static_cast<std::uint32_t>(std::min(r.input_tokens, kMax)));
    real.outputs.push_back(static_cast<std::uint32_t>(std::min(r.output_tokens, kMax)));
  });
  if (!loaded) return loaded.error();
  for (std::size_t k = 0; k < real.inputs.size(); ++k) {
    out.lengths.inputs.push_back(workload::scale_length_down(real.inputs[k], scale.input_divisor));
    out.lengths.outputs.push_back(workload::scale_length_down(real.outputs[k], scale.output_divisor));
  }
  workload::BinningOptions bo;
  bo.input_edges = scale.scaled_input_edges();
  bo.output_edges = scale.scaled_output_edges();
  bo.policy = workload::OutOfRange::kExclude;
  auto bins = estimate::bin_lengths(out.lengths, bo, fs::path(f.work.trace).stem().string(), f.work.trace);
  if (!bins) return bins.error();
  out.bins = std::move(*bins);
  out.lengths_source = fmt::format("{} ({} requests)", f.work.trace, real.inputs.size());
  return out;
}

// What the simulator prices candidates on: --hardware NAME (with --profiles, e.g. a
// calibrated profile) or this host's CPU from /proc/cpuinfo at each thread count; the
// llamacpp-cpu stack or --stack-file.
Result<study::PlanDevice> plan_device(const OptimizeFlags& f) {
  study::PlanDevice d;
  std::string hw_text;
  if (!f.hardware.empty()) {
    auto registry = load_registry(f.deploy);
    if (!registry) return registry.error();
    auto p = registry->find(f.hardware.front());
    if (!p) return make_error(Errc::kInvalidArgument, "--hardware: " + p.error().message);
    d.fixed = *p;
    hw_text = fmt::format("{} (one profile for every thread count)", p->name);
  } else {
    CpuModelOptions o;
    o.idle_w = f.sensor.cpu_idle_w;
    o.max_w = f.sensor.cpu_max_w;
    auto power = resolve_cpu_power_params(o);
    if (!power) return make_error(power.error().code, "CPU power model: " + power.error().message);
    auto text = read_text_file(o.cpuinfo);
    if (!text) return text.error();
    auto cpu = hardware::parse_cpuinfo(*text, o.cpuinfo);
    if (!cpu) return cpu.error();
    d.cpu = *cpu;
    d.host.idle_w = power->idle_w;
    d.host.max_w = power->max_w;
    d.host.power_basis = power->basis;
    hw_text = fmt::format("host-cpu ({}, /proc/cpuinfo, at each candidate's thread count; {:.1f}..{:.1f} W)",
                          cpu->model_name, power->idle_w, power->max_w);
  }
  if (!f.deploy.stack_file.empty()) {
    auto file = sim::load_stack_file(f.deploy.stack_file);
    if (!file) return make_error(file.error().code, "--stack-file: " + file.error().message);
    d.stack = file->stack;
    if (file->power) {
      auto m =
          sim::power_from_json(*file->power, sim::default_power_model(hardware::DeviceKind::kCpu), f.deploy.stack_file);
      if (!m) return make_error(m.error().code, "--stack-file: " + m.error().message);
      d.power = *m;
    }
  } else {
    auto s = sim::find_stack("llamacpp-cpu");
    if (!s) return s.error();
    d.stack = *s;
  }
  d.description = fmt::format("{} + {}", hw_text, d.stack.name);
  return d;
}

// TDP and peak for the FLOPs-ideal line of the estimate: the profile the plan priced.
void add_ratings(std::vector<estimate::ConfigInputs>& inputs, const study::PlanDevice& d) {
  for (auto& in : inputs) {
    Result<hardware::HardwareProfile> p =
        d.fixed ? Result<hardware::HardwareProfile>(*d.fixed) : hardware::host_cpu_profile(*d.cpu, [&] {
          auto o = d.host;
          o.threads = in.config.threads;
          return o;
        }());
    auto prec = estimate::precision_for_weight_type(in.config.weight_type);
    if (p && prec) {
      if (auto r = estimate::rating_from_profile(*p, *prec); r) {
        in.device = *r;
        in.ideal_note.clear();
      }
    }
  }
}

std::string fmt_opt_j(const std::optional<double>& j) { return j ? format_joules(*j) : "-"; }

int run_measured(const OptimizeFlags& f) {
  auto work = measured_workload(f);
  if (!work) return fail(work.error());
  auto device = plan_device(f);
  if (!device) return fail(device.error());

  study::CandidateSpace space;
  space.models = f.models;
  space.threads = f.cpu_threads;
  space.max_batch = f.max_batch_given ? f.max_batch : std::vector<std::uint32_t>{1, 4, 8};
  space.batching = f.batching.empty() ? std::vector<std::string>{"static", "continuous"} : f.batching;
  if (auto st = check_search_size(
          {space.models.size(), space.threads.size(), space.max_batch.size(), space.batching.size()}, f.max_cells);
      !st)
    return fail(st.error());
  study::PlanOptions po;
  po.top_k = f.top_k;
  if (f.slo_e2e > 0) po.slo_e2e_s = f.slo_e2e;
  if (f.baseline_given && f.baseline != "none") po.baseline = f.baseline;
  auto plan = study::plan_candidates(space, work->bins, *device, po);
  if (!plan) return fail(plan.error());
  std::cerr << fmt::format(
      "planned {} candidates on the simulator ({}); measuring the {} predicted cheapest and the baseline '{}'\n",
      plan->candidates.size(), plan->device, plan->selected.size() - 1, plan->candidates[plan->baseline].config.name);

  if (f.store.empty()) return fail(make_error(Errc::kInvalidArgument, "--engine llamacpp needs --store FILE"));
  auto store = study::Store::open(f.store);
  if (!store) return fail(store.error());
  auto mp = study::measurement_plan(*plan, work->bins, f.warmup, f.reps, f.work.seed);
  if (auto st = study::validate_study(mp.study); !st) return fail(st.error());

  SteadyClock clock;
  auto sampler = start_sampler(f.sensor, clock, "optimize");
  if (!sampler) return kExitFailure;
  const auto [estimated, sensors] = summarize_sampler(*sampler);
  study::SweepEnv env;
  env.clock = &clock;
  env.sampler = sampler.get();
  if (f.idle_s > 0) {
    auto m = measure_idle(*sampler, Seconds(f.idle_s));
    if (!m) return fail(m.error());
    env.idle = *m;
  }
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [k, v] : host_conditions()) conditions[k] = v;
  nlohmann::json sensor = nlohmann::json::object();
  for (const auto& [k, v] : sampler->conditions()) sensor[k] = v;
  conditions["sensor"] = sensor;
  env.conditions = conditions;
  Progress progress(isatty(STDERR_FILENO) == 1);
  auto swept = study::run_sweep(mp.study, mp.cells, *store, env, &progress);
  sampler->stop();
  if (!swept) return fail(swept.error());
  if (auto st = study::no_failed_cells(*swept); !st) return fail(st.error());
  auto cells = store->cells();
  if (!cells) return fail(cells.error());

  auto inputs = study::estimate_inputs(*plan);
  add_ratings(inputs, *device);
  auto est = estimate::estimate_workload(work->bins, &work->lengths, inputs, *cells, estimate::EstimateOptions{},
                                         estimate::CarbonOptions{}, plan->candidates[plan->baseline].config.name);
  if (!est) return fail(est.error());
  est->lengths_source = work->lengths_source;
  auto cmp = study::compare_with_measurement(*plan, *est);
  if (!cmp) return fail(cmp.error());

  const std::string sensor_note =
      estimated ? "no hardware energy sensor was read: measured energies are ESTIMATED from CPU time (the CPU-time "
                  "power model, docs/sensors.md)"
                : "measured energies come from " + sensors;
  nlohmann::json candidates = nlohmann::json::array();
  for (const auto& c : plan->candidates) candidates.push_back(study::to_json(c));
  nlohmann::json doc{
      {"mode", "measured"},
      {"engine", "llamacpp"},
      {"workload",
       {{"name", work->bins.name},
        {"trace", work->bins.trace},
        {"requests", work->bins.requests},
        {"excluded", work->bins.excluded},
        {"bins", work->bins.bins.size()},
        {"input_edges", work->bins.input_edges},
        {"output_edges", work->bins.output_edges},
        {"scale_input_divisor", f.scale_input},
        {"scale_output_divisor", f.scale_output},
        {"lengths_source", work->lengths_source}}},
      {"device", plan->device},
      {"top_k", f.top_k},
      {"slo_e2e_s", f.slo_e2e > 0 ? nlohmann::json(f.slo_e2e) : nlohmann::json(nullptr)},
      {"sensor_note", sensor_note},
      {"estimated", estimated},
      {"sweep",
       {{"store", f.store},
        {"cells", swept->total},
        {"resumed", swept->resumed},
        {"measured", swept->measured},
        {"skipped", swept->skipped},
        {"elapsed_s", swept->elapsed_s},
        {"repetitions", f.reps},
        {"warmup", f.warmup}}},
      {"comparison", study::to_json(*cmp)},
      {"candidates", candidates},
      {"note",
       "predicted energies are SIMULATED (sum over bins of N/B * simulated E_batch on the plan's device); measured "
       "energies are the paper's estimate from the measured cells (ESTIMATED when the sensor is a model)"}};
  if (auto st = store->put_artifact(
          {"optimize", "measured-" + work->bins.name, doc,
           std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()});
      !st)
    return fail(st.error());
  if (f.json) {
    fmt::print("{}\n", doc.dump(2));
    return kExitOk;
  }
  fmt::print("workload {}: {} requests in {} bins ({} excluded); lengths divided by {} (input) and {} (output)\n",
             work->bins.name, work->bins.requests, work->bins.bins.size(), work->bins.excluded, f.scale_input,
             f.scale_output);
  fmt::print("plan: {} candidates SIMULATED on {}\n", plan->candidates.size(), plan->device);
  fmt::print("sweep: {} cells ({} already stored, {} measured, {} skipped) into {}\n", swept->total, swept->resumed,
             swept->measured, swept->skipped, f.store);
  fmt::print("{}\n\n", sensor_note);
  fmt::print("  {:<34} {:>14} {:>5} {:>14} {:>5} {:>8} {:>9}  {}\n", "config", "predicted (SIM)", "rank",
             estimated ? "ESTIMATED" : "MEASURED", "rank", "saving", "pred err", "source");
  for (const auto& c : cmp->configs) {
    fmt::print("  {:<34} {:>14} {:>5} {:>14} {:>5} {:>8} {:>9}  {}{}\n", c.name + (c.baseline ? " *" : ""),
               format_joules(c.predicted_energy_j), c.predicted_rank, fmt_opt_j(c.measured_energy_j),
               c.measured_rank ? std::to_string(*c.measured_rank) : "-",
               c.saving_pct ? fmt::format("{:.1f}%", *c.saving_pct) : "-",
               c.prediction_error_pct ? fmt::format("{:+.0f}%", *c.prediction_error_pct) : "-",
               c.energy_source.empty() ? "-" : c.energy_source, c.refused.empty() ? "" : "  refused: " + c.refused);
  }
  fmt::print("  (* baseline)\n\n");
  if (cmp->measured_best) {
    fmt::print("measured minimum-energy config: {}{}\n", *cmp->measured_best,
               cmp->best_saving_pct
                   ? fmt::format(", {:.1f}% less than the baseline {}", *cmp->best_saving_pct, cmp->baseline)
                   : "");
    fmt::print(
        "prediction: {} was predicted cheapest; the measured best {} the least predicted energy{}; Spearman "
        "rank correlation of predicted and measured energy {}\n",
        *cmp->predicted_best, cmp->predicted_best_is_measured_best ? "had" : "did NOT have",
        cmp->predicted_best_is_measured_best ? " (ties count)" : "",
        cmp->spearman ? fmt::format("{:.2f}", *cmp->spearman) : "- (fewer than 2 ranked)");
  } else {
    fmt::print("no config could be estimated from the measured cells\n");
  }
  return kExitOk;
}

}  // namespace

void add_optimize_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<OptimizeFlags>();
  auto* cmd = app.add_subcommand("optimize",
                                 "The simulated configuration with the least energy under latency SLOs, the "
                                 "energy-latency Pareto front and the savings against a baseline");
  add_deployment_flags(cmd, f->deploy, /*hardware_required=*/false);
  add_workload_flags(cmd, f->work);
  cmd->add_option("--hardware", f->hardware, "hardware profiles to try (default: every GPU profile)")->delimiter(',');
  cmd->add_option("--devices", f->devices, "total devices to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--tp", f->tp, "tensor-parallel degrees to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--stacks", f->stacks, "software stacks to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--batching", f->batching,
                  "batching modes to try (default: each stack's own; --engine llamacpp: static,continuous)")
      ->delimiter(',');
  cmd->add_option("--max-batch", f->max_batch,
                  "maximum batch sizes to try (--engine llamacpp: the batch sizes, default 1,4,8)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--decoding", f->decoding, "greedy, spec (speculative with --draft)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--precision", f->precisions, "weight precisions to try")->delimiter(',')->capture_default_str();
  cmd->add_option("--spec-tokens", f->spec_tokens, "draft tokens per speculative step")->capture_default_str();
  cmd->add_option("--slo-ttft", f->slo_ttft, "p99 time to first token, s");
  cmd->add_option("--slo-tpot", f->slo_tpot, "p99 time per output token, s");
  cmd->add_option("--slo-e2e", f->slo_e2e, "p99 end-to-end latency, s");
  cmd->add_option("--min-throughput", f->min_throughput, "completed requests per second");
  cmd->add_option("--baseline", f->baseline,
                  "the configuration to compare with, key=value,...: hardware (default: the first tried), stack, "
                  "batching, max-batch, tp, devices, precision, decoding; 'none' for none. --engine llamacpp: a "
                  "candidate's name (default: first model, 1 thread, B=1, static)")
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "worker threads (default: all cores)");
  cmd->add_option("--top", f->top, "feasible configurations to list")->capture_default_str();
  cmd->add_option("--max-cells", f->max_cells,
                  "refuse a search grid of more configurations than this (default: sized to this machine's memory)")
      ->capture_default_str();
  cmd->add_option("--overload", f->overload_s, "stop a run once it falls this far behind the last arrival, s")
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "print JSON (every candidate)")->envname("JOULEPERF_JSON");
  cmd->add_option("--stack-file", f->deploy.stack_file,
                  "--engine llamacpp: a stack (and power model) from `jouleperf calibrate -o` instead of llamacpp-cpu");
  // The measured mode.
  cmd->add_option("--engine", f->engine,
                  "sim: search the simulator only; llamacpp: plan on the simulator, measure the top K on llama.cpp")
      ->capture_default_str()
      ->check(CLI::IsMember({"sim", "llamacpp"}));
  cmd->add_option("--models", f->models, "--engine llamacpp: GGUF files to try (the first is the baseline's)")
      ->delimiter(',');
  cmd->add_option("--cpu-threads", f->cpu_threads, "--engine llamacpp: CPU thread counts to try")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--top-k", f->top_k, "--engine llamacpp: candidates to measure besides the baseline")
      ->capture_default_str();
  cmd->add_option("--store", f->store, "--engine llamacpp: results store (SQLite; a rerun resumes into it)");
  cmd->add_option("--scale-input", f->scale_input,
                  "--engine llamacpp: divide input lengths (and edges) by this, rounding up, so a CPU finishes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--scale-output", f->scale_output, "--engine llamacpp: divide output lengths (and edges) by this")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input-edges", f->input_edges, "--engine llamacpp: input bin edges before scaling, tokens")
      ->capture_default_str();
  cmd->add_option("--output-edges", f->output_edges, "--engine llamacpp: output bin edges before scaling, tokens")
      ->capture_default_str();
  cmd->add_option("--reps", f->reps, "--engine llamacpp: measured batches per cell")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", f->warmup, "--engine llamacpp: warm-up batches per cell")->capture_default_str();
  cmd->add_option("--idle", f->idle_s, "--engine llamacpp: measure idle power for this long first, s (0: none)")
      ->capture_default_str();
  add_sensor_flags(cmd, f->sensor);
  auto* max_batch_opt = cmd->get_option("--max-batch");
  auto* baseline_opt = cmd->get_option("--baseline");
  cmd->callback([&ctx, f, max_batch_opt, baseline_opt] {
    if (f->engine == "llamacpp") {
      f->max_batch_given = max_batch_opt->count() > 0;
      f->baseline_given = baseline_opt->count() > 0;
      ctx.exit_code = run_measured(*f);
      return;
    }
    if (!f->models.empty() || !f->store.empty()) {
      std::fprintf(stderr, "jouleperf optimize: --models and --store need --engine llamacpp\n");
      ctx.exit_code = kExitUsage;
      return;
    }
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
