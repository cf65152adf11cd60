#include "jouleperf/study/online.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jouleperf/sensor/meter.hpp"

namespace jouleperf::study {

namespace {

nlohmann::json pct(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"mean", p.mean}, {"max", p.max}, {"n", p.n}};
}

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

struct Served {
  ServeResult result;
  Measurement measurement;
};

Result<Served> serve_measured(Engine& engine, Sampler& sampler, const Clock& clock,
                              const std::vector<ServeRequest>& requests, const ServeOptions& options,
                              const std::optional<IdleBaseline>& idle) {
  Meter meter(sampler);
  if (idle) meter.set_idle(*idle);
  auto served = engine.serve(requests, options, clock, &meter);
  if (!served) return served.error();
  auto m = meter.stop();
  if (!m) return m.error();
  return Served{std::move(*served), std::move(*m)};
}

std::uint64_t output_tokens(const ServeResult& r) {
  std::uint64_t n = 0;
  for (const auto& q : r.requests) n += q.output_tokens;
  return n;
}

}  // namespace

nlohmann::json power_series(Sampler& sampler, double t0_s, double t1_s, std::size_t max_points) {
  nlohmann::json out = {{"sensor", nullptr}, {"samples", nlohmann::json::array()}};
  for (std::size_t i = 0; i < sampler.size(); ++i) {
    if (!sampler.info(i).caps.in_total) continue;
    const auto samples = sampler.samples(i);
    std::vector<std::pair<double, double>> pts;
    const bool counter = sampler.source(i) == EnergySource::kCounter;
    for (std::size_t k = 0; k < samples.size(); ++k) {
      const auto& s = samples[k];
      if (s.t_s < t0_s || s.t_s > t1_s) continue;
      if (counter || std::isnan(s.power_w)) {
        if (k == 0) continue;
        const double dt = s.t_s - samples[k - 1].t_s;
        if (dt <= 0) continue;
        pts.emplace_back(s.t_s - t0_s, (s.energy_j - samples[k - 1].energy_j) / dt);
      } else {
        pts.emplace_back(s.t_s - t0_s, s.power_w);
      }
    }
    const std::size_t stride =
        std::max<std::size_t>(1, (pts.size() + max_points - 1) / std::max<std::size_t>(max_points, 1));
    for (std::size_t k = 0; k < pts.size(); k += stride)
      out["samples"].push_back({{"t_s", pts[k].first}, {"power_w", pts[k].second}});
    out["sensor"] = sampler.info(i).name;
    out["domain"] = sampler.info(i).domain;
    out["energy_source"] = std::string(energy_source_name(sampler.source(i)));
    out["estimated"] = sampler.info(i).caps.estimated;
    break;
  }
  return out;
}

Result<OnlineComparison> online_vs_offline(Engine& engine, Sampler& sampler, const Clock& clock,
                                           const std::vector<ServeRequest>& requests, const OnlineOptions& o) {
  auto online = serve_measured(engine, sampler, clock, requests, o.online, o.idle);
  if (!online) return online.error();
  std::vector<ServeRequest> at_zero = requests;
  for (auto& r : at_zero) r.arrival_s = 0.0;
  ServeOptions off;
  off.batching = BatchingMode::kStatic;
  off.max_batch = o.offline_batch;
  off.strategy = o.online.strategy;
  off.sampling = o.online.sampling;
  auto offline = serve_measured(engine, sampler, clock, at_zero, off, o.idle);
  if (!offline) return offline.error();

  const auto& r = online->result;
  const auto& m = online->measurement.total;
  std::vector<double> ttft, e2e;
  std::size_t met = 0;
  nlohmann::json detail = nlohmann::json::array();
  for (const auto& q : r.requests) {
    ttft.push_back(q.ttft_s());
    e2e.push_back(q.e2e_s());
    const bool ok = (!o.slo.ttft_s || q.ttft_s() <= *o.slo.ttft_s) && (!o.slo.e2e_s || q.e2e_s() <= *o.slo.e2e_s);
    if (ok) ++met;
    detail.push_back({{"arrival_s", q.arrival_s - r.start_s},
                      {"input_tokens", q.input_tokens},
                      {"output_tokens", q.output_tokens},
                      {"ttft_s", q.ttft_s()},
                      {"e2e_s", q.e2e_s()}});
  }
  const double duration = r.end_s - r.start_s;
  const double n = static_cast<double>(r.requests.size());
  const std::uint64_t out_tokens = output_tokens(r);
  const auto& om = offline->measurement.total;
  const double off_n = static_cast<double>(offline->result.requests.size());
  OnlineComparison c;
  c.replay = {{"config", o.config},
              {"engine", engine.info().engine},
              {"batching", std::string(batching_name(o.online.batching))},
              {"max_batch", o.online.max_batch},
              {"arrivals", o.arrivals},
              {"requests", r.requests.size()},
              {"completed", r.requests.size()},
              {"duration_s", duration},
              {"energy_j", m.energy_j},
              {"uncertainty_j", m.uncertainty_j},
              {"above_idle_j", opt(m.above_idle_j)},
              {"energy_source", m.energy_source},
              {"estimated", m.estimated},
              {"simulated", false},
              {"per_request_j", n > 0 ? m.energy_j / n : 0.0},
              {"per_output_token_j", out_tokens > 0 ? m.energy_j / static_cast<double>(out_tokens) : 0.0},
              {"idle_power_w", o.idle ? nlohmann::json(o.idle->total_power_w) : nlohmann::json(nullptr)},
              {"latency_s", {{"ttft", pct(percentiles(ttft))}, {"e2e", pct(percentiles(e2e))}}},
              {"slo", {{"ttft_s", opt(o.slo.ttft_s)}, {"e2e_s", opt(o.slo.e2e_s)}}},
              {"goodput_rps", duration > 0 ? static_cast<double>(met) / duration : 0.0},
              {"slo_attainment", n > 0 ? static_cast<double>(met) / n : 0.0},
              {"forwards", r.forwards},
              {"mean_batch", r.mean_batch},
              {"busy_s", r.busy_s},
              {"offline",
               {{"energy_j", om.energy_j},
                {"per_request_j", off_n > 0 ? om.energy_j / off_n : 0.0},
                {"duration_s", offline->result.end_s - offline->result.start_s},
                {"batch", o.offline_batch},
                {"above_idle_j", opt(om.above_idle_j)}}},
              {"requests_detail", detail}};
  c.power_trace = power_series(sampler, r.start_s, r.end_s, o.power_points);
  nlohmann::json marks = nlohmann::json::array();
  for (const auto& q : r.requests) marks.push_back({{"t_s", q.arrival_s - r.start_s}, {"name", "arrival"}});
  c.power_trace["marks"] = marks;
  c.power_trace["what"] = fmt::format("online replay of {} ({})", o.config, o.arrivals);
  c.online = std::move(online->result);
  c.online_measurement = std::move(online->measurement);
  c.offline = std::move(offline->result);
  c.offline_measurement = std::move(offline->measurement);
  return c;
}

}  // namespace jouleperf::study
