// jouleperf optimize: the simulated configuration that serves a workload with the least
// energy under TTFT / TPOT / end-to-end SLOs and a minimum throughput, the energy-latency
// Pareto front, and the savings against a named baseline.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/sim/optimize.hpp"
#include "jouleperf/sim/result_json.hpp"
#include "sim_flags.hpp"

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
};

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
  cmd->add_option("--batching", f->batching, "batching modes to try (default: each stack's own)")->delimiter(',');
  cmd->add_option("--max-batch", f->max_batch, "maximum batch sizes to try")->delimiter(',')->capture_default_str();
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
                  "batching, max-batch, tp, devices, precision, decoding; 'none' for none")
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "worker threads (default: all cores)");
  cmd->add_option("--top", f->top, "feasible configurations to list")->capture_default_str();
  cmd->add_option("--overload", f->overload_s, "stop a run once it falls this far behind the last arrival, s")
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "print JSON (every candidate)")->envname("JOULEPERF_JSON");
  cmd->callback([&ctx, f] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
