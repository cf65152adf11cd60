#include "jouleperf/engine/rate_sweep.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <set>

#include "jouleperf/workload/arrivals.hpp"

namespace jouleperf {

namespace {

Result<std::vector<double>> arrivals(const RateSweepSpec& spec, double rate, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return spec.gamma_cv ? workload::gamma_arrivals(rate, *spec.gamma_cv, n, rng)
                       : workload::poisson_arrivals(rate, n, rng);
}

// Arrivals in [0, duration_s): draws more until one lands past the end (same seed, so
// a longer draw extends the shorter one).
Result<std::vector<double>> arrivals_for(const RateSweepSpec& spec, double rate, double duration_s,
                                         std::uint64_t seed) {
  std::size_t n = static_cast<std::size_t>(std::ceil(rate * duration_s * 1.5)) + 16;
  for (;;) {
    auto t = arrivals(spec, rate, n, seed);
    if (!t) return t.error();
    if (!t->empty() && t->back() >= duration_s) {
      std::vector<double> out;
      for (double x : *t)
        if (x < duration_s) out.push_back(x);
      return out;
    }
    if (n > (std::size_t{1} << 26))
      return make_error(Errc::kInvalidArgument,
                        fmt::format("rate {} requests/s for {} s gives too many requests", rate, duration_s));
    n *= 2;
  }
}

}  // namespace

Result<std::vector<RatePhase>> make_rate_phases(const RateSweepSpec& spec) {
  if (spec.rates_rps.empty()) return make_error(Errc::kInvalidArgument, "rate sweep: no rates given");
  if (spec.requests.has_value() == spec.duration_s.has_value())
    return make_error(Errc::kInvalidArgument, "rate sweep: give either requests per rate or a duration per rate");
  if (spec.requests && *spec.requests == 0)
    return make_error(Errc::kInvalidArgument, "rate sweep: requests per rate must be >= 1");
  if (spec.duration_s && !(*spec.duration_s > 0 && std::isfinite(*spec.duration_s)))
    return make_error(Errc::kInvalidArgument, "rate sweep: the duration per rate must be > 0 s");
  if (spec.input_tokens == 0 || spec.output_tokens == 0)
    return make_error(Errc::kInvalidArgument, "rate sweep: input and output lengths must be >= 1");
  std::vector<RatePhase> out;
  std::set<std::string> names;
  for (std::size_t k = 0; k < spec.rates_rps.size(); ++k) {
    const double rate = spec.rates_rps[k];
    if (!(rate > 0 && std::isfinite(rate)))
      return make_error(Errc::kInvalidArgument, fmt::format("rate sweep: rate {} must be > 0 requests/s", rate));
    RatePhase p;
    p.name = fmt::format("rate-{}", rate);
    p.rate_rps = rate;
    if (!names.insert(p.name).second)
      return make_error(Errc::kInvalidArgument, fmt::format("rate sweep: rate {} is given twice", rate));
    const std::uint64_t seed = spec.seed + k;
    auto t =
        spec.requests ? arrivals(spec, rate, *spec.requests, seed) : arrivals_for(spec, rate, *spec.duration_s, seed);
    if (!t) return t.error();
    if (t->empty())
      return make_error(Errc::kInvalidArgument,
                        fmt::format("rate sweep: no arrival within {} s at {} requests/s; give a longer duration",
                                    *spec.duration_s, rate));
    for (double at : *t) p.schedule.push_back({at, spec.input_tokens, spec.output_tokens});
    out.push_back(std::move(p));
  }
  return out;
}

Result<RateSweepRun> run_rate_sweep(OpenAiClient& client, std::span<const RatePhase> phases,
                                    const RateSweepOptions& options, const Clock& clock, Meter* meter) {
  if (phases.empty()) return make_error(Errc::kInvalidArgument, "rate sweep: no phases");
  if (!(options.idle_gap_s >= 0) || !std::isfinite(options.idle_gap_s))
    return make_error(Errc::kInvalidArgument, "rate sweep: the idle gap must be >= 0 s");
  RateSweepRun out;
  out.idle_gap_s = options.idle_gap_s;
  if (options.warmup_requests > 0) {
    const RatePhase& first = phases.front();
    if (first.schedule.empty()) return make_error(Errc::kInvalidArgument, "rate sweep: the first phase is empty");
    std::vector<ScheduledRequest> warm;
    for (std::size_t i = 0; i < options.warmup_requests; ++i)
      warm.push_back({static_cast<double>(i) / first.rate_rps, first.schedule.front().input_tokens,
                      first.schedule.front().output_tokens});
    LoadgenOptions lo = options.loadgen;
    lo.seed = options.loadgen.seed + phases.size();
    auto run = run_open_loop(client, warm, lo, clock, nullptr);
    if (!run) return run.error();
    out.warmup = std::move(*run);
  }
  for (std::size_t k = 0; k < phases.size(); ++k) {
    LoadgenOptions lo = options.loadgen;
    lo.seed = options.loadgen.seed + k;
    lo.meter_phase = phases[k].name;
    lo.meter_started = k > 0;
    auto run = run_open_loop(client, phases[k].schedule, lo, clock, meter);
    if (!run) return run.error();
    SweepPhaseRun p;
    p.name = phases[k].name;
    p.rate_rps = phases[k].rate_rps;
    p.run = std::move(*run);
    // The gap starts when the phase's last request ended (nothing is in flight now).
    p.gap_start_s = clock.now().value();
    if (options.idle_gap_s > 0) {
      p.gap_name = fmt::format("gap-{}", k + 1);
      if (meter != nullptr)
        if (auto st = meter->mark(p.gap_name); !st) return st.error();
      clock.sleep_until(Seconds(p.gap_start_s + options.idle_gap_s));
    }
    p.gap_end_s = clock.now().value();
    out.phases.push_back(std::move(p));
  }
  return out;
}

Result<SweepPhaseEnergy> sweep_phase_energy(const Measurement& m, const SweepPhaseRun& phase) {
  auto find = [&](const std::string& name) -> const IntervalEnergy* {
    for (const auto& iv : m.phases)
      if (iv.name == name) return &iv;
    return nullptr;
  };
  const IntervalEnergy* active = find(phase.name);
  if (active == nullptr)
    return make_error(Errc::kNotFound, fmt::format("rate sweep: no measured interval for phase {}", phase.name));
  SweepPhaseEnergy e;
  e.active = *active;
  e.energy_j = active->energy_j;
  e.uncertainty_j = active->uncertainty_j;
  e.above_idle_j = active->above_idle_j;
  e.energy_source = active->energy_source;
  e.estimated = active->estimated;
  e.below_resolution = active->below_resolution;
  if (!phase.gap_name.empty()) {
    const IntervalEnergy* gap = find(phase.gap_name);
    if (gap == nullptr)
      return make_error(Errc::kNotFound, fmt::format("rate sweep: no measured interval for {}", phase.gap_name));
    e.gap = *gap;
    e.energy_j += gap->energy_j;
    e.uncertainty_j += gap->uncertainty_j;
    e.above_idle_j = (active->above_idle_j && gap->above_idle_j)
                         ? std::optional<double>(*active->above_idle_j + *gap->above_idle_j)
                         : std::nullopt;
    if (gap->energy_source != active->energy_source)
      e.energy_source = "mixed: " + active->energy_source + "+" + gap->energy_source;
    e.estimated = e.estimated || gap->estimated;
    e.below_resolution = e.below_resolution || gap->below_resolution;
  }
  return e;
}

}  // namespace jouleperf
