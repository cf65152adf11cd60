#include "jouleperf/sim/optimize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <thread>

#include "jouleperf/sim/simulator.hpp"

namespace jouleperf::sim {

std::string label(const SimConfig& c) {
  const std::uint32_t devices = c.tp * c.replicas;
  std::string s = fmt::format("{} x{}", c.hardware.name, devices);
  if (c.tp > 1) s += fmt::format(" (tp {})", c.tp);
  if (c.replicas > 1) s += fmt::format(" ({} replicas)", c.replicas);
  s += fmt::format(" {} {} b{} {}", c.stack.name, batching_name(c.batching), c.max_batch,
                   weight_precision_name(c.precision));
  if (c.decoding.spec_tokens > 0)
    s += fmt::format(" spec{}@{:g}", c.decoding.spec_tokens, c.decoding.spec_acceptance);
  else if (c.decoding.beam_width > 1)
    s += fmt::format(" beam{}", c.decoding.beam_width);
  if (c.clocks.power_limit_w) s += fmt::format(" cap {:g}W", *c.clocks.power_limit_w);
  if (c.clocks.clock_ratio) s += fmt::format(" clock {:g}", *c.clocks.clock_ratio);
  if (c.clocks.phased())
    s += fmt::format(" clocks prefill {:g} decode {:g}", c.clocks.ratio_for(true), c.clocks.ratio_for(false));
  return s;
}

namespace {

// The clock settings to try on `hw`: each cap fraction x clock ratio, 1 meaning none; a
// CPU runs as it is.
std::vector<ClockSettings> clock_choices(const SearchSpace& space, const hardware::HardwareProfile& hw) {
  if (hw.kind != hardware::DeviceKind::kGpu) return {ClockSettings{}};
  std::vector<ClockSettings> out;
  for (double cap : space.power_cap_fractions.empty() ? std::vector<double>{1.0} : space.power_cap_fractions)
    for (double r : space.clock_ratios.empty() ? std::vector<double>{1.0} : space.clock_ratios) {
      ClockSettings c;
      if (cap < 1.0) c.power_limit_w = cap * hw.tdp_w;
      if (r < 1.0) c.clock_ratio = r;
      out.push_back(c);
      if (!space.phase_clocks) continue;
      for (double decode : space.clock_ratios) {  // the prefill clock r with another decode clock
        if (decode == r) continue;
        ClockSettings p;
        p.power_limit_w = c.power_limit_w;
        p.prefill_clock_ratio = r;
        p.decode_clock_ratio = decode;
        out.push_back(p);
      }
    }
  return out;
}

}  // namespace

std::vector<SimConfig> expand(const SearchSpace& space, const SimConfig& base) {
  std::vector<SimConfig> out;
  for (const auto& hw : space.hardware) {
    for (std::uint32_t devices : space.devices) {
      for (std::uint32_t tp : space.tp) {
        if (tp == 0 || devices % tp != 0 || tp > hw.max_tp) continue;
        for (const auto& stack : space.stacks) {
          if (stack.device != hw.kind) continue;
          std::vector<Batching> modes = space.batching;
          if (modes.empty()) modes.push_back(stack.batching);
          for (Batching mode : modes) {
            for (std::uint32_t mb : space.max_batch) {
              for (const auto& dec : space.decoding) {
                if (dec.decoding.draft && dec.decoding.draft->arch.vocab != base.model.arch.vocab) continue;
                for (WeightPrecision p : space.precisions) {
                  SimConfig c = base;
                  c.hardware = hw;
                  c.stack = stack;
                  c.power = default_power_model(hw.kind);
                  c.tp = tp;
                  c.replicas = devices / tp;
                  c.batching = mode;
                  c.max_batch = mb;
                  c.decoding = dec.decoding;
                  c.precision = p;
                  if (hw.kind == hardware::DeviceKind::kCpu)
                    c.token_budget = std::min<std::uint32_t>(c.token_budget, 2048);
                  for (const auto& clocks : clock_choices(space, hw)) {
                    c.clocks = clocks;
                    out.push_back(c);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

namespace {

Evaluated evaluate(const SimConfig& config, std::span<const workload::TimedRequest> workload, const Slo& slo,
                   double stop_after_s) {
  Evaluated e;
  e.config = config;
  e.config.keep_requests = false;
  e.config.timeline_bins = 1;
  e.config.stop_after_s = stop_after_s;
  e.label = label(config);
  e.devices = static_cast<double>(config.tp * config.replicas);
  auto r = simulate(e.config, workload);
  if (!r) {
    e.why = r.error().message;
    return e;
  }
  e.ran = true;
  e.energy_j = r->energy_j;
  e.energy_per_request_j = r->energy_per_request_j;
  e.ttft_p99_s = r->ttft.p99;
  e.tpot_p99_s = r->tpot.p99;
  e.e2e_p99_s = r->e2e.p99;
  e.throughput_rps = r->throughput_rps;
  e.peak_sequences = r->peak_sequences;
  e.kv_limited = r->kv_limited;
  std::vector<std::string> miss;
  if (r->truncated) miss.push_back("overloaded (falls behind its arrivals)");
  if (r->rejected > 0) miss.push_back(fmt::format("{} requests do not fit", r->rejected));
  if (slo.ttft_p99_s && r->ttft.p99 > *slo.ttft_p99_s)
    miss.push_back(fmt::format("TTFT p99 {:.3g} s > {:.3g} s", r->ttft.p99, *slo.ttft_p99_s));
  if (slo.tpot_p99_s && r->tpot.p99 > *slo.tpot_p99_s)
    miss.push_back(fmt::format("TPOT p99 {:.3g} s > {:.3g} s", r->tpot.p99, *slo.tpot_p99_s));
  if (slo.e2e_p99_s && r->e2e.p99 > *slo.e2e_p99_s)
    miss.push_back(fmt::format("e2e p99 {:.3g} s > {:.3g} s", r->e2e.p99, *slo.e2e_p99_s));
  if (slo.min_throughput_rps && r->throughput_rps < *slo.min_throughput_rps)
    miss.push_back(fmt::format("throughput {:.3g} req/s < {:.3g}", r->throughput_rps, *slo.min_throughput_rps));
  e.feasible = miss.empty();
  for (const auto& m : miss) e.why += (e.why.empty() ? "" : "; ") + m;
  return e;
}

}  // namespace

Result<OptimizeResult> optimize(std::span<const SimConfig> grid, std::span<const workload::TimedRequest> workload,
                                const Slo& slo, const std::optional<SimConfig>& baseline, unsigned threads,
                                double overload_s) {
  if (grid.empty()) return make_error(Errc::kInvalidArgument, "optimize: the search space is empty");
  if (workload.empty()) return make_error(Errc::kInvalidArgument, "optimize: the workload is empty");
  const auto t0 = std::chrono::steady_clock::now();
  double last = 0;
  for (const auto& r : workload) last = std::max(last, r.arrival_s);
  const double stop = last + std::max(overload_s, 1.0);

  OptimizeResult out;
  out.candidates.resize(grid.size());
  // Groups of configurations that differ only in max_batch, largest cap first.
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    SimConfig k = grid[i];
    k.max_batch = 0;
    by_key[label(k)].push_back(i);
  }
  std::vector<std::vector<std::size_t>> groups;
  for (auto& [k, v] : by_key) {
    std::sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) { return grid[a].max_batch > grid[b].max_batch; });
    groups.push_back(std::move(v));
  }
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t g = next++; g < groups.size(); g = next++) {
      const Evaluated* ran = nullptr;
      for (std::size_t i : groups[g]) {
        const SimConfig& c = grid[i];
        const bool same = ran != nullptr && ran->ran && !ran->kv_limited && ran->peak_sequences < c.max_batch &&
                          (c.batching == Batching::kContinuous || c.static_wait_s == 0.0);
        if (same) {
          Evaluated e = *ran;
          e.config = c;
          e.config.keep_requests = false;
          e.label = label(c);
          e.reused = true;
          out.candidates[i] = std::move(e);
        } else {
          out.candidates[i] = evaluate(c, workload, slo, stop);
          ran = &out.candidates[i];
        }
      }
    }
  };
  const unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(groups.size())));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (baseline) out.baseline = evaluate(*baseline, workload, slo, stop);

  std::vector<std::size_t> ok;
  for (std::size_t i = 0; i < out.candidates.size(); ++i) {
    out.ran += out.candidates[i].ran ? 1 : 0;
    out.simulated_runs += out.candidates[i].reused ? 0 : 1;
    if (out.candidates[i].feasible) ok.push_back(i);
  }
  out.feasible = ok.size();
  // Energy first, then latency; the front keeps each candidate faster than every cheaper one.
  std::sort(ok.begin(), ok.end(), [&](std::size_t a, std::size_t b) {
    const auto &x = out.candidates[a], &y = out.candidates[b];
    return x.energy_j != y.energy_j ? x.energy_j < y.energy_j : x.e2e_p99_s < y.e2e_p99_s;
  });
  if (!ok.empty()) out.best = ok.front();
  double fastest = std::numeric_limits<double>::infinity();
  for (std::size_t i : ok) {
    if (out.candidates[i].e2e_p99_s < fastest) {
      fastest = out.candidates[i].e2e_p99_s;
      out.candidates[i].pareto = true;
      out.pareto.push_back(i);
    }
  }
  if (out.best && out.baseline && out.baseline->ran && out.baseline->energy_per_request_j > 0)
    out.savings_vs_baseline = 1.0 - out.candidates[*out.best].energy_per_request_j / out.baseline->energy_per_request_j;
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace jouleperf::sim
