// The event loop: arrivals in time order, each routed to a replica after every replica
// has run the steps that start before it; then the replicas drain and idle to the end.
#include "jouleperf/sim/simulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "jouleperf/sim/step_trace.hpp"
#include "replica.hpp"

namespace jouleperf::sim {
namespace {

using detail::Req;

std::string describe(const SimConfig& c, const detail::Deployment& d) {
  std::string s = fmt::format("{} ({}) on {} x {}{} under {}, {} batching (max batch {}", c.model.arch.name,
                              weight_precision_name(c.precision), c.replicas, c.hardware.name,
                              c.tp > 1 ? fmt::format(" x tp {}", c.tp) : std::string(), c.stack.name,
                              batching_name(c.batching), c.max_batch);
  if (c.batching == Batching::kContinuous)
    s += fmt::format(", {} tokens/step{}", c.token_budget, c.chunked_prefill ? ", chunked prefill" : "");
  s += fmt::format("), KV capacity {:.0f} tokens per replica", d.kv_capacity_tokens);
  if (c.decoding.beam_width > 1) s += fmt::format(", beam width {}", c.decoding.beam_width);
  if (c.decoding.spec_tokens > 0)
    s += fmt::format(", speculative decoding with {} (gamma {}, acceptance {:.2f}: {:.2f} tokens/step)",
                     c.decoding.draft->arch.name, c.decoding.spec_tokens, c.decoding.spec_acceptance, d.tau);
  if (c.replicas > 1) s += fmt::format(", {} router", router_name(c.router));
  return s;
}

struct RunEnd {
  double end_s = 0;
  bool truncated = false;
};

template <class Replica>
RunEnd run_replicas(const SimConfig& c, const detail::Deployment& d, std::span<const Req> reqs,
                    std::span<const std::uint32_t> order, detail::Accounting& acc) {
  std::vector<Replica> reps;
  reps.reserve(c.replicas);
  for (std::uint32_t i = 0; i < c.replicas; ++i) reps.emplace_back(c, d, reqs, acc);
  const double stop = c.stop_after_s > 0 ? c.stop_after_s : std::numeric_limits<double>::infinity();
  std::size_t rr = 0;
  double last_arrival = 0;
  RunEnd out;
  for (std::uint32_t idx : order) {
    const Req& r = reqs[idx];
    if (r.arrival_s > stop) {
      out.truncated = true;
      break;
    }
    last_arrival = std::max(last_arrival, r.arrival_s);
    if (!detail::fits_alone(c, d, r)) {
      acc.reject(idx);
      acc.event();
      continue;
    }
    for (auto& rep : reps) rep.run_until(r.arrival_s);
    std::size_t pick = 0;
    if (c.router == RouterPolicy::kRoundRobin) {
      pick = rr++ % reps.size();
    } else {
      for (std::size_t i = 1; i < reps.size(); ++i)
        if (reps[i].in_flight() < reps[pick].in_flight()) pick = i;
    }
    reps[pick].arrive(idx, r.arrival_s);
    if (reps[pick].now() > stop) {  // overloaded: the replica runs far behind its arrivals
      out.truncated = true;
      break;
    }
  }
  double end = last_arrival;
  for (auto& rep : reps) {
    rep.run_until(stop);
    if (rep.in_flight() > 0) out.truncated = true;
    end = std::max(end, rep.now());
  }
  for (auto& rep : reps) rep.idle_until(end);
  out.end_s = end;
  return out;
}

}  // namespace

namespace {

Result<SimResult> simulate_impl(const SimConfig& c, std::span<const workload::TimedRequest> requests,
                                StepTrace* trace) {
  auto dep = detail::make_deployment(c);
  if (!dep) return dep.error();
  if (requests.size() > std::numeric_limits<std::uint32_t>::max())
    return make_error(Errc::kInvalidArgument, "simulation: more than 2^32 requests");
  std::vector<Req> reqs(requests.size());
  double last = 0;
  bool sorted = true;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& t = requests[i];
    if (!std::isfinite(t.arrival_s) || t.arrival_s < 0)
      return make_error(Errc::kInvalidArgument, fmt::format("simulation: request {} arrives at {} s", i, t.arrival_s));
    reqs[i] = Req{t.arrival_s, std::max<std::uint32_t>(1, t.input_tokens), std::max<std::uint32_t>(1, t.output_tokens)};
    if (t.arrival_s < last) sorted = false;
    last = std::max(last, t.arrival_s);
  }
  std::vector<std::uint32_t> order(reqs.size());
  std::iota(order.begin(), order.end(), 0u);
  if (!sorted)
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return reqs[a].arrival_s < reqs[b].arrival_s; });

  const double bin_w = std::max(last, 1e-3) / static_cast<double>(c.timeline_bins);
  detail::Accounting acc(reqs.size(), bin_w, c.timeline_bins);
  if (trace) {
    *trace = StepTrace{};
    trace->token_s.resize(reqs.size());
    acc.set_trace(trace);
  }
  const RunEnd ran = c.batching == Batching::kStatic
                         ? run_replicas<detail::StaticReplica>(c, *dep, reqs, order, acc)
                         : run_replicas<detail::ContinuousReplica>(c, *dep, reqs, order, acc);
  const double end = ran.end_s;

  SimResult r;
  r.description = describe(c, *dep);
  r.requests = reqs.size();
  r.kv_capacity_tokens = dep->kv_capacity_tokens;
  r.truncated = ran.truncated;
  // Request totals over completed requests, before the accounting's per-token figures.
  acc.finish(r, end, dep->devices * c.replicas, /*keep_requests=*/true);
  double req_flops = 0;
  std::uint64_t in = 0, out = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (std::isnan(r.per_request[i].e2e_s)) continue;
    in += reqs[i].input;
    out += reqs[i].output;
    req_flops += request_flops(c.model, reqs[i].input, reqs[i].output, LogitsMode::kLast).total();
  }
  r.input_tokens = in;
  r.output_tokens = out;
  if (out > 0) r.energy_per_output_token_j = r.energy_j / static_cast<double>(out);
  if (in + out > 0) {
    r.energy_per_token_j = r.energy_j / static_cast<double>(in + out);
    r.output_tokens_per_s = end > 0 ? static_cast<double>(out) / end : 0.0;
  }
  r.request_flops = req_flops;
  r.flops_ideal_energy_j = c.hardware.tdp_w / dep->target.matmul_peak_flops() * req_flops;
  if (!c.keep_requests) {
    r.per_request.clear();
    r.per_request.shrink_to_fit();
  }
  return r;
}

}  // namespace

Result<SimResult> simulate(const SimConfig& c, std::span<const workload::TimedRequest> requests) {
  return simulate_impl(c, requests, nullptr);
}

Result<SimResult> simulate_traced(const SimConfig& c, std::span<const workload::TimedRequest> requests,
                                  StepTrace& trace) {
  if (c.replicas != 1)
    return make_error(
        Errc::kUnsupported,
        fmt::format("simulation trace: one replica only ({} asked): replicas' steps overlap in time", c.replicas));
  if (c.batching != Batching::kContinuous)
    return make_error(
        Errc::kUnsupported,
        "simulation trace: continuous batching only (a static batch's steps are not modelled one by one)");
  return simulate_impl(c, requests, &trace);
}

Result<BatchRun> simulate_batch(const SimConfig& config, std::uint32_t input, std::uint32_t output,
                                std::uint32_t batch) {
  if (batch == 0 || input == 0 || output == 0)
    return make_error(Errc::kInvalidArgument, "simulate_batch: batch, input and output must be >= 1");
  SimConfig c = config;
  c.replicas = 1;
  c.max_batch = batch;
  c.static_wait_s = 0;
  auto dep = detail::make_deployment(c);
  if (!dep) return dep.error();
  BatchRun run;
  const double w = dep->beams;
  const double per_request =
      (dep->beams_share_prompt ? input + w * output : w * (input + output)) + detail::kBlockWasteTokens * w + dep->q;
  if (per_request * batch > dep->kv_capacity_tokens * (1.0 - detail::kAdmitWatermark)) {
    run.fits = false;
    return run;
  }
  std::vector<workload::TimedRequest> reqs(batch, workload::TimedRequest{0.0, input, output});
  auto r = simulate(c, reqs);
  if (!r) return r.error();
  run.detail = std::move(*r);
  const SimResult& d = run.detail;
  run.duration_s = d.span_s;
  run.energy_j = d.energy_j;
  run.steps = d.steps;
  run.ttft_mean_s = d.ttft.mean;
  run.prefill_s = d.ttft.max;
  run.tpot_mean_s = d.tpot.mean;
  run.energy_per_request_j = d.completed > 0 ? d.energy_j / static_cast<double>(d.completed) : 0.0;
  run.flops_ideal_energy_j = d.flops_ideal_energy_j;
  return run;
}

}  // namespace jouleperf::sim
