// Totals, per-request outcomes, latency summaries and the utilization timeline.
#include <algorithm>
#include <cmath>
#include <limits>

#include "replica.hpp"

namespace jouleperf::sim::detail {

Accounting::Accounting(std::size_t requests, double bin_width_s, std::size_t want_bins)
    : out_(requests, RequestOutcome{std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::quiet_NaN(),
                                    std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::quiet_NaN()}),
      bin_w_(bin_width_s),
      want_bins_(std::max<std::size_t>(1, want_bins)) {
  bins_.reserve(want_bins_ + 1);
}

void Accounting::add_to_bins(double t0, double t1, double energy_j, double busy_weight, double compute_util,
                             double memory_util, double sequences) {
  if (t1 <= t0) return;
  const double rate = energy_j / (t1 - t0);
  // Keep at most 4x the bins asked for: past that, merge pairs and double the width
  // (a workload whose arrivals all come at 0 does not know its span in advance).
  while (t1 >= static_cast<double>(4 * want_bins_) * bin_w_) {
    const std::size_t half = (bins_.size() + 1) / 2;
    for (std::size_t i = 0; i < half; ++i) {
      Bin m = bins_[2 * i];
      if (2 * i + 1 < bins_.size()) {
        const Bin& o = bins_[2 * i + 1];
        m.busy_s += o.busy_s;
        m.energy_j += o.energy_j;
        m.compute_s += o.compute_s;
        m.memory_s += o.memory_s;
        m.batch_s += o.batch_s;
        m.replica_s += o.replica_s;
      }
      bins_[i] = m;
    }
    bins_.resize(half);
    bin_w_ *= 2.0;
  }
  auto b = static_cast<std::size_t>(t0 / bin_w_);
  double t = t0;
  while (t < t1) {
    if (b >= bins_.size()) bins_.resize(b + 1);
    const double end = std::min(t1, static_cast<double>(b + 1) * bin_w_);
    const double dt = end - t;
    if (dt > 0) {
      Bin& x = bins_[b];
      x.energy_j += rate * dt;
      x.busy_s += busy_weight * dt;
      x.compute_s += compute_util * busy_weight * dt;
      x.memory_s += memory_util * busy_weight * dt;
      x.batch_s += sequences * dt;
      if (busy_weight > 0) x.replica_s += dt;
    }
    t = end;
    ++b;
  }
}

void Accounting::step(double t0, double t1, double energy_j, double devices, double compute_util, double memory_util,
                      double sequences, double flops) {
  active_j_ += energy_j;
  busy_s_ += (t1 - t0) * devices;
  replica_busy_s_ += t1 - t0;
  batch_s_ += sequences * (t1 - t0);
  flops_ += flops;
  ++steps_;
  ++events_;
  add_to_bins(t0, t1, energy_j, devices, compute_util, memory_util, sequences);
}

void Accounting::idle(double t0, double t1, double idle_w) {
  if (t1 <= t0) return;
  idle_j_ += idle_w * (t1 - t0);
  if (trace_) trace_->steps.push_back(TracedStep{t0, t1, idle_w * (t1 - t0), {}});
  add_to_bins(t0, t1, idle_w * (t1 - t0), 0.0, 0.0, 0.0, 0.0);
}

void Accounting::complete(std::uint32_t req, double ttft_s, double tpot_s, double e2e_s, double energy_j) {
  out_[req] = RequestOutcome{static_cast<float>(ttft_s), static_cast<float>(tpot_s), static_cast<float>(e2e_s),
                             static_cast<float>(energy_j)};
  ++completed_;
  ++events_;
}

void Accounting::reject(std::uint32_t req) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  out_[req] = RequestOutcome{nan, nan, nan, nan};
  ++rejected_;
}

namespace {

LatencySummary summarize(std::vector<float>& v) {
  LatencySummary s;
  s.count = v.size();
  if (v.empty()) return s;
  double sum = 0;
  for (float x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  // Three selections instead of a full sort: p50, p90, p99, then the max.
  auto at = [&](double p) {
    const double pos = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
    const double a = v[lo];
    if (lo + 1 >= v.size()) return a;
    const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
    return a + (pos - static_cast<double>(lo)) * (b - a);
  };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

}  // namespace

void Accounting::finish(SimResult& r, double end_s, double devices_total, bool keep_requests) {
  r.completed = completed_;
  r.rejected = rejected_;
  r.preemptions = preemptions_;
  r.peak_sequences = static_cast<std::uint64_t>(peak_);
  r.kv_limited = kv_limited_;
  r.steps = steps_;
  r.events = events_;
  r.devices = devices_total;
  r.span_s = end_s;
  r.active_energy_j = active_j_;
  r.idle_energy_j = idle_j_;
  r.energy_j = active_j_ + idle_j_;
  r.idle_share = r.energy_j > 0 ? idle_j_ / r.energy_j : 0.0;
  r.busy_share = end_s > 0 ? busy_s_ / (end_s * devices_total) : 0.0;
  r.simulated_flops = flops_;
  r.mean_power_w = end_s > 0 ? r.energy_j / end_s : 0.0;
  r.mean_batch = replica_busy_s_ > 0 ? batch_s_ / replica_busy_s_ : 0.0;
  if (completed_ > 0) r.energy_per_request_j = r.energy_j / static_cast<double>(completed_);
  if (r.output_tokens > 0) r.energy_per_output_token_j = r.energy_j / static_cast<double>(r.output_tokens);
  if (r.input_tokens + r.output_tokens > 0)
    r.energy_per_token_j = r.energy_j / static_cast<double>(r.input_tokens + r.output_tokens);
  if (end_s > 0) {
    r.throughput_rps = static_cast<double>(completed_) / end_s;
    r.output_tokens_per_s = static_cast<double>(r.output_tokens) / end_s;
  }

  std::vector<float> ttft, tpot, e2e;
  ttft.reserve(completed_);
  e2e.reserve(completed_);
  tpot.reserve(completed_);
  for (const auto& o : out_) {
    if (std::isnan(o.e2e_s)) continue;
    ttft.push_back(o.ttft_s);
    e2e.push_back(o.e2e_s);
    if (!std::isnan(o.tpot_s)) tpot.push_back(o.tpot_s);
  }
  r.ttft = summarize(ttft);
  r.tpot = summarize(tpot);
  r.e2e = summarize(e2e);

  // Timeline: the bins up to end_s, merged into about as many as were asked for.
  r.timeline.clear();
  const std::size_t n = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(end_s / bin_w_)));
  bins_.resize(std::max(bins_.size(), n));
  // Up to a quarter more bins than asked for rather than halving them for one extra bin.
  const std::size_t group = std::max<std::size_t>(1, (4 * n + 5 * want_bins_ - 1) / (5 * want_bins_));
  for (std::size_t i = 0; i < n; i += group) {
    Bin sum;
    const std::size_t j_end = std::min(n, i + group);
    for (std::size_t j = i; j < j_end; ++j) {
      sum.busy_s += bins_[j].busy_s;
      sum.energy_j += bins_[j].energy_j;
      sum.compute_s += bins_[j].compute_s;
      sum.memory_s += bins_[j].memory_s;
      sum.batch_s += bins_[j].batch_s;
      sum.replica_s += bins_[j].replica_s;
    }
    TimelineBin tb;
    tb.start_s = static_cast<double>(i) * bin_w_;
    tb.duration_s = std::min(end_s, static_cast<double>(j_end) * bin_w_) - tb.start_s;
    if (tb.duration_s <= 0) continue;
    tb.busy_share = sum.busy_s / (tb.duration_s * devices_total);
    tb.power_w = sum.energy_j / tb.duration_s;
    if (sum.busy_s > 0) {
      tb.compute_util = sum.compute_s / sum.busy_s;
      tb.memory_util = sum.memory_s / sum.busy_s;
      tb.mean_batch = sum.replica_s > 0 ? sum.batch_s / sum.replica_s : 0.0;
    }
    r.timeline.push_back(tb);
  }
  if (keep_requests) r.per_request = std::move(out_);
}

}  // namespace jouleperf::sim::detail
