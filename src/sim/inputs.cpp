#include "jouleperf/sim/inputs.hpp"

#include <fmt/format.h>

#include <random>

#include "jouleperf/model/arch.hpp"
#include "jouleperf/sim/stack_json.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/loader.hpp"
#include "jouleperf/workload/synthetic.hpp"

namespace jouleperf::sim {

Result<std::vector<workload::TimedRequest>> load_workload(const WorkloadSource& f, std::string& description) {
  using namespace workload;
  const bool poisson = f.poisson_rps.has_value();
  const double rate = f.poisson_rps.value_or(0.0);
  if (!f.trace.empty() && !f.workload.empty())
    return make_error(Errc::kInvalidArgument, "give --trace or --workload, not both");
  auto lengths = parse_length_model(f.lengths);
  if (!lengths) return lengths.error();
  std::mt19937_64 rng(f.seed);
  SynthesisOptions o;
  o.lengths = *lengths;
  if (poisson) o.rate_rps = rate;
  o.replay.speed = f.speed;
  if (!f.trace.empty()) {
    auto t = load_timed_requests(f.trace, LoadOptions{});
    if (!t) return t.error();
    if (poisson) {
      o.arrivals = ArrivalProcess::kPoisson;
      o.count = f.count > 0 ? f.count : t->requests.size();
      description = fmt::format("{}: {} requests, lengths resampled from {} rows, Poisson {:g} req/s (seed {})",
                                f.trace, o.count, t->requests.size(), rate, f.seed);
      return synthesize(*t, o, rng);
    }
    if (!t->load.has_arrivals)
      return make_error(Errc::kInvalidArgument, fmt::format("{} has no arrival times: add --poisson RATE", f.trace));
    o.arrivals = ArrivalProcess::kReplay;
    o.count = f.count;
    auto out = synthesize(*t, o, rng);
    if (out) description = fmt::format("{}: {} requests replayed at speed {:g}", f.trace, out->size(), f.speed);
    return out;
  }
  if (!f.workload.empty() || !poisson || (f.input == 0 && f.output == 0)) {
    const std::string name = f.workload.empty() ? "azure-conv-2023" : f.workload;
    auto w = find_default_workload(name);
    if (!w) return make_error(Errc::kInvalidArgument, w.error().message);
    o.arrivals = ArrivalProcess::kPoisson;
    o.count = f.count > 0 ? f.count : (*w)->requests;
    description = fmt::format("{}: {} requests, {} lengths, Poisson {:.3g} req/s{} (seed {})", name, o.count, f.lengths,
                              poisson ? rate : (*w)->rate_rps, poisson ? "" : " (its own rate)", f.seed);
    return synthesize(**w, o, rng);
  }
  if (f.input == 0 || f.output == 0)
    return make_error(Errc::kInvalidArgument,
                      "--poisson without a trace or workload needs --input-tokens and --output-tokens");
  auto arrivals = poisson_arrivals(rate, f.count > 0 ? f.count : 1000, rng);
  if (!arrivals) return arrivals.error();
  std::vector<TimedRequest> out;
  out.reserve(arrivals->size());
  for (double t : *arrivals) out.push_back({t, f.input, f.output});
  description = fmt::format("{} requests of {} + {} tokens, Poisson {:g} req/s (seed {})", out.size(), f.input,
                            f.output, rate, f.seed);
  return out;
}

Result<ModelInfo> resolve_model(const std::string& name_or_path) {
  auto a = find_builtin_arch(name_or_path);
  if (a) return info_from_arch(*a);
  if (name_or_path.size() > 5 && name_or_path.ends_with(".gguf")) return read_gguf_info(name_or_path);
  return make_error(Errc::kInvalidArgument, a.error().message + " (or give a .gguf path)");
}

Result<hardware::HardwareRegistry> load_registry(const std::vector<std::string>& profiles) {
  hardware::HardwareRegistry r;
  for (const auto& p : profiles)
    if (auto st = r.load_file(p); !st) return st.error();
  return r;
}

Result<SimConfig> to_sim_config(const DeploymentOptions& f, const hardware::HardwareRegistry& registry) {
  auto hw = registry.find(f.hardware);
  if (!hw) return make_error(Errc::kInvalidArgument, hw.error().message);
  std::optional<nlohmann::json> power;
  std::optional<SoftwareStack> stack;
  if (!f.stack_file.empty()) {
    auto file = load_stack_file(f.stack_file);
    if (!file) return make_error(file.error().code, "--stack-file: " + file.error().message);
    stack = file->stack;
    power = file->power;
  } else {
    auto named = find_stack(f.stack);
    if (!named) return make_error(Errc::kInvalidArgument, named.error().message);
    stack = *named;
  }
  auto model = resolve_model(f.model);
  if (!model) return model.error();
  auto precision = parse_weight_precision(f.precision);
  if (!precision) return precision.error();
  auto router = parse_router(f.router);
  if (!router) return router.error();
  SimConfig c = make_config(*hw, *stack, *model);
  if (power) {
    auto m = power_from_json(*power, c.power, f.stack_file);
    if (!m) return make_error(m.error().code, "--stack-file: " + m.error().message);
    c.power = *m;
  }
  c.precision = *precision;
  c.router = *router;
  if (!f.batching.empty()) {
    auto b = parse_batching(f.batching);
    if (!b) return b.error();
    c.batching = *b;
  }
  c.tp = f.tp;
  c.replicas = f.replicas;
  c.max_batch = f.max_batch;
  if (f.token_budget > 0) c.token_budget = f.token_budget;
  c.chunked_prefill = !f.no_chunked_prefill;
  c.memory_utilization = f.memory_utilization;
  c.static_wait_s = f.static_wait_s;
  c.timeline_bins = f.timeline_bins;
  c.decoding.beam_width = f.beam;
  c.decoding.spec_tokens = f.spec_tokens;
  c.decoding.spec_acceptance = f.spec_acceptance;
  if (f.spec_tokens > 0) {
    auto d = resolve_model(f.draft);
    if (!d) return make_error(d.error().code, "--draft: " + d.error().message);
    c.decoding.draft = *d;
  }
  return c;
}

std::string format_joules(double j) {
  const double a = j < 0 ? -j : j;
  if (a >= 1e9) return fmt::format("{:.3g} GJ", j / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g} MJ", j / 1e6);
  if (a >= 1e3) return fmt::format("{:.3g} kJ", j / 1e3);
  return fmt::format("{:.3g} J", j);
}

}  // namespace jouleperf::sim
