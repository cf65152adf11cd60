#include "jouleperf/sim/optimize_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "jouleperf/core/text.hpp"
#include "jouleperf/sim/result_json.hpp"

namespace jouleperf::sim {
namespace {

Status add_hardware(SearchSpace& space, const std::vector<std::string>& names, const hardware::HardwareRegistry& reg) {
  if (names.empty()) {
    for (const auto& p : reg.profiles())
      if (p.kind == hardware::DeviceKind::kGpu) space.hardware.push_back(p);
    return {};
  }
  for (const auto& n : names) {
    auto p = reg.find(n);
    if (!p) return make_error(Errc::kInvalidArgument, p.error().message);
    space.hardware.push_back(*p);
  }
  return {};
}

Status add_choices(SearchSpace& space, const OptimizeSearchOptions& o, const DecodingConfig& spec_dec) {
  for (const auto& s : o.stacks) {
    auto st = find_stack(s);
    if (!st) return make_error(Errc::kInvalidArgument, st.error().message);
    space.stacks.push_back(*st);
  }
  for (const auto& b : o.batching) {
    auto m = parse_batching(b);
    if (!m) return m.error();
    space.batching.push_back(*m);
  }
  space.precisions.clear();
  for (const auto& p : o.precisions) {
    auto w = parse_weight_precision(p);
    if (!w) return w.error();
    space.precisions.push_back(*w);
  }
  space.decoding.clear();
  for (const auto& d : o.decoding) {
    if (d == "greedy")
      space.decoding.push_back(DecodingChoice{});
    else if (d == "spec")
      space.decoding.push_back(DecodingChoice{fmt::format("spec{}", o.spec_tokens), spec_dec});
    else
      return make_error(Errc::kInvalidArgument, fmt::format("--decoding '{}': greedy or spec", d));
  }
  return {};
}

// Settings shared by every candidate come from the deployment.
Result<SimConfig> base_config(const SearchSpace& space, const ModelInfo& model, const DeploymentOptions& d) {
  if (space.hardware.empty() || space.stacks.empty())
    return make_error(Errc::kInvalidArgument, "give at least one hardware profile and one stack");
  SimConfig base = make_config(space.hardware.front(), space.stacks.front(), model);
  auto router = parse_router(d.router);
  if (!router) return router.error();
  base.router = *router;
  if (d.token_budget > 0) base.token_budget = d.token_budget;
  base.chunked_prefill = !d.no_chunked_prefill;
  base.memory_utilization = d.memory_utilization;
  base.static_wait_s = d.static_wait_s;
  return base;
}

Slo slo_of(const OptimizeSearchOptions& o) {
  Slo slo;
  if (o.slo_ttft > 0) slo.ttft_p99_s = o.slo_ttft;
  if (o.slo_tpot > 0) slo.tpot_p99_s = o.slo_tpot;
  if (o.slo_e2e > 0) slo.e2e_p99_s = o.slo_e2e;
  if (o.min_throughput > 0) slo.min_throughput_rps = o.min_throughput;
  return slo;
}

Result<DecodingConfig> spec_decoding(const OptimizeSearchOptions& o, const DeploymentOptions& d) {
  DecodingConfig spec;
  spec.spec_tokens = o.spec_tokens;
  spec.spec_acceptance = d.spec_acceptance;
  auto draft = resolve_model(d.draft);
  if (!draft) return draft.error();
  spec.draft = *draft;
  return spec;
}

// The grid of candidates and the baseline, if any.
struct Grid {
  std::vector<SimConfig> configs;
  std::optional<SimConfig> baseline;
};

Result<Grid> grid_of(const OptimizeSearchOptions& o, const DeploymentOptions& d, const ModelInfo& model) {
  auto registry = load_registry(d.profiles);
  if (!registry) return registry.error();
  SearchSpace space;
  if (auto st = add_hardware(space, o.hardware, *registry); !st) return st.error();
  space.devices = o.devices;
  space.tp = o.tp;
  space.max_batch = o.max_batch;
  for (const auto& [flag, list] :
       {std::pair{"--power-caps", &o.power_caps}, std::pair{"--clock-ratios", &o.clock_ratios}})
    for (double v : *list)
      if (!(v >= kMinClockRatio && v <= 1.0))
        return make_error(
            Errc::kInvalidArgument,
            fmt::format("{} {:g}: each must be a fraction in [{:g}, 1] (1 = none)", flag, v, kMinClockRatio));
  space.power_cap_fractions = o.power_caps;
  space.clock_ratios = o.clock_ratios;
  space.phase_clocks = o.phase_clocks;
  auto spec = spec_decoding(o, d);
  if (!spec) return spec.error();
  if (auto st = add_choices(space, o, *spec); !st) return st.error();
  auto base = base_config(space, model, d);
  if (!base) return base.error();
  if (auto st =
          check_search_size({space.hardware.size(), space.devices.size(), space.tp.size(), space.stacks.size(),
                             std::max<std::size_t>(1, space.batching.size()), space.max_batch.size(),
                             space.decoding.size(), space.precisions.size(), o.power_caps.size(),
                             o.phase_clocks ? o.clock_ratios.size() * o.clock_ratios.size() : o.clock_ratios.size()},
                            o.max_cells);
      !st)
    return st.error();
  Grid g;
  g.configs = expand(space, *base);
  if (!o.baseline.empty() && o.baseline != "none") {
    auto b = parse_baseline(o.baseline, *base, *registry, *spec);
    if (!b) return b.error();
    g.baseline = *b;
  }
  return g;
}

}  // namespace

Status check_search_size(std::initializer_list<std::size_t> axes, std::uint64_t max_cells) {
  if (max_cells == 0) return {};
  std::uint64_t n = 1;
  for (std::size_t a : axes)
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(a), &n)) n = UINT64_MAX;
  if (n <= max_cells) return {};
  return make_error(Errc::kInvalidArgument,
                    fmt::format("the search grid has up to {} configurations (the product of the lists tried), more "
                                "than --max-cells {} (docs/study.md, Limits): try fewer values",
                                n, max_cells));
}

Result<SimConfig> parse_baseline(const std::string& spec, const SimConfig& base, const hardware::HardwareRegistry& reg,
                                 const DecodingConfig& spec_dec) {
  SimConfig c = base;
  std::uint32_t devices = 1;
  std::optional<Batching> batching;
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
      c.power = default_power_model(h->kind);
    } else if (k == "stack") {
      auto s = find_stack(v);
      if (!s) return bad(s.error().message);
      c.stack = *s;
    } else if (k == "batching") {
      auto b = parse_batching(v);
      if (!b) return bad(b.error().message);
      batching = *b;
    } else if (k == "max-batch") {
      if (auto st = uint(c.max_batch); !st) return st.error();
    } else if (k == "tp") {
      if (auto st = uint(c.tp); !st) return st.error();
    } else if (k == "devices") {
      if (auto st = uint(devices); !st) return st.error();
    } else if (k == "precision") {
      auto p = parse_weight_precision(v);
      if (!p) return bad(p.error().message);
      c.precision = *p;
    } else if (k == "decoding") {
      if (v == "greedy")
        c.decoding = DecodingConfig{};
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

nlohmann::json to_json(const Evaluated& e) {
  return {{"label", e.label},
          {"config", to_json(e.config)},
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

Result<OptimizeRun> run_optimize(const OptimizeSearchOptions& o, const DeploymentOptions& d, const WorkloadSource& w) {
  auto model = resolve_model(d.model);
  if (!model) return model.error();
  auto grid = grid_of(o, d, *model);
  if (!grid) return grid.error();
  OptimizeRun run;
  run.search = o;
  run.model = model->arch.name;
  auto reqs = load_workload(w, run.workload);
  if (!reqs) return reqs.error();
  run.threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  auto r = optimize(grid->configs, *reqs, slo_of(o), grid->baseline, run.threads, o.overload_s);
  if (!r) return r.error();
  run.result = std::move(*r);
  return run;
}

}  // namespace jouleperf::sim
