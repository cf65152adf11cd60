#include "jouleperf/engine/attribution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace jouleperf {
namespace {

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0.0; }

double overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

Status check_inputs(std::span<const EnergySlice> slices, std::span<const CostSegment> segments,
                    std::span<const RequestTimeline> timelines, const AttributionOptions& o) {
  for (std::size_t k = 0; k < slices.size(); ++k) {
    const auto& s = slices[k];
    if (!std::isfinite(s.t0_s) || !std::isfinite(s.t1_s) || s.t1_s < s.t0_s)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("attribution: slice {} spans [{}, {}] s", k, s.t0_s, s.t1_s));
    if (!finite_nonneg(s.energy_j))
      return make_error(Errc::kInvalidArgument, fmt::format("attribution: slice {} has energy {} J", k, s.energy_j));
    if (k > 0 && s.t0_s < slices[k - 1].t1_s - 1e-9 * std::max(1.0, std::abs(s.t0_s)))
      return make_error(Errc::kInvalidArgument,
                        fmt::format("attribution: slice {} starts at {} s, before slice {} ends", k, s.t0_s, k - 1));
  }
  for (std::size_t k = 0; k < segments.size(); ++k) {
    const auto& g = segments[k];
    if (g.request >= timelines.size())
      return make_error(Errc::kInvalidArgument,
                        fmt::format("attribution: segment {} names request {} of {}", k, g.request, timelines.size()));
    if (!std::isfinite(g.t0_s) || !std::isfinite(g.t1_s) || g.t1_s < g.t0_s || !finite_nonneg(g.cost))
      return make_error(Errc::kInvalidArgument,
                        fmt::format("attribution: segment {} spans [{}, {}] s costing {}", k, g.t0_s, g.t1_s, g.cost));
  }
  for (std::size_t i = 0; i < timelines.size(); ++i)
    if (!std::isfinite(timelines[i].send_s) || !std::isfinite(timelines[i].end_s) ||
        timelines[i].end_s < timelines[i].send_s)
      return make_error(Errc::kInvalidArgument, fmt::format("attribution: request {} is in flight over [{}, {}] s", i,
                                                            timelines[i].send_s, timelines[i].end_s));
  if (o.idle_power_w && !finite_nonneg(*o.idle_power_w))
    return make_error(Errc::kInvalidArgument, fmt::format("attribution: idle power {} W", *o.idle_power_w));
  return {};
}

// The index of the slice an instant belongs to: [t0, t1) (the last slice also its end);
// instants before the first slice or after the last go to those.
std::size_t slice_of(std::span<const EnergySlice> slices, double t) {
  auto it =
      std::upper_bound(slices.begin(), slices.end(), t, [](double v, const EnergySlice& s) { return v < s.t1_s; });
  if (it == slices.end()) return slices.size() - 1;
  return static_cast<std::size_t>(it - slices.begin());
}

// Per slice, each request's weight for prefill and decode (sparse: only who is there).
struct Share {
  std::size_t request = 0;
  double prefill = 0, decode = 0;
};

// The segments' weights per slice: each segment visits the slices it overlaps.
std::vector<std::vector<Share>> segment_weights(std::span<const EnergySlice> slices,
                                                std::span<const CostSegment> segments) {
  std::vector<std::vector<Share>> out(slices.size());
  // A request may appear several times in a slice (one entry per segment): the split adds
  // them up, so no lookup is needed here.
  auto add = [&](std::size_t k, const CostSegment& g, double w) {
    if (w > 0.0) out[k].push_back(g.prefill ? Share{g.request, w, 0} : Share{g.request, 0, w});
  };
  const double first = slices.front().t0_s, last = slices.back().t1_s;
  for (const auto& g : segments) {
    if (g.cost <= 0.0) continue;
    if (g.t1_s <= g.t0_s) {  // an instant: counted when it falls inside the measured span
      if (g.t0_s >= first && g.t0_s <= last) add(slice_of(slices, g.t0_s), g, g.cost);
      continue;
    }
    // Work outside the measured span has no energy to take: only the part inside weighs.
    const double len = g.t1_s - g.t0_s;
    for (std::size_t k = slice_of(slices, g.t0_s); k < slices.size() && slices[k].t0_s < g.t1_s; ++k)
      add(k, g, g.cost * overlap(slices[k].t0_s, slices[k].t1_s, g.t0_s, g.t1_s) / len);
  }
  return out;
}

// The requests in flight as slices advance: requests enter in order of send and leave
// once ended, so each slice looks only at those that may overlap it.
class InFlight {
 public:
  explicit InFlight(std::span<const RequestTimeline> timelines) : timelines_(timelines), order_(timelines.size()) {
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    std::sort(order_.begin(), order_.end(),
              [&](std::size_t x, std::size_t y) { return timelines[x].send_s < timelines[y].send_s; });
  }
  // Advances to slice [a, b) (slices come in time order).
  void advance(double a, double b) {
    while (next_ < order_.size() && timelines_[order_[next_]].send_s < b) active_.push_back(order_[next_++]);
    std::erase_if(active_, [&](std::size_t i) { return timelines_[i].end_s <= a; });
  }
  const std::vector<std::size_t>& active() const { return active_; }

 private:
  std::span<const RequestTimeline> timelines_;
  std::vector<std::size_t> order_, active_;
  std::size_t next_ = 0;
};

// Requests in flight in slice [a, b): time before their first token (prefill) and after.
std::vector<Share> in_flight(std::span<const RequestTimeline> timelines, const std::vector<std::size_t>& active,
                             double a, double b) {
  std::vector<Share> out;
  for (std::size_t i : active) {
    const auto& r = timelines[i];
    if (r.end_s <= a || r.send_s >= b) continue;
    const double first = r.first_token_s ? std::clamp(*r.first_token_s, r.send_s, r.end_s) : r.end_s;
    const double p = overlap(a, b, r.send_s, first), d = overlap(a, b, first, r.end_s);
    if (p + d > 0.0) out.push_back({i, p, d});
  }
  return out;
}

double idle_weight(const RequestTimeline& r, IdlePolicy p) {
  if (p == IdlePolicy::kTime) return r.end_s - r.send_s;
  if (p == IdlePolicy::kTokens) return static_cast<double>(r.input_tokens + r.token_s.size());
  return 0.0;
}

}  // namespace

double TokenCostModel::prefill_cost(std::uint64_t tokens, std::uint64_t context) const {
  // Σ over the prompt's positions c = context .. context + tokens - 1 of (a + b c).
  const double n = static_cast<double>(tokens);
  const double first = static_cast<double>(context);
  return n * prefill_token + prefill_context * (n * first + n * (n - 1.0) / 2.0);
}

double TokenCostModel::decode_cost(std::uint64_t context) const {
  return decode_token + decode_context * static_cast<double>(context);
}

Status validate(const TokenCostModel& m) {
  for (double v : {m.prefill_token, m.prefill_context, m.decode_token, m.decode_context})
    if (!finite_nonneg(v))
      return make_error(Errc::kInvalidArgument, "cost model: every per-token figure must be finite and >= 0");
  if (m.prefill_token + m.prefill_context <= 0.0 || m.decode_token + m.decode_context <= 0.0)
    return make_error(Errc::kInvalidArgument, "cost model: a prompt token and a generated token must cost more than 0");
  return {};
}

// The run's prefill rates, prompt tokens per second from send to first token, over the
// requests that had a token: the median (typical, queueing included) and the 90th
// percentile (the requests that waited least: about the engine's own prefill speed).
struct PrefillRates {
  double median = 0, fast = 0;
};
std::optional<PrefillRates> prefill_rates(std::span<const RequestTimeline> requests) {
  std::vector<double> rates;
  for (const auto& r : requests)
    if (r.first_token_s && *r.first_token_s > r.send_s && r.input_tokens > 0)
      rates.push_back(static_cast<double>(r.input_tokens) / (*r.first_token_s - r.send_s));
  if (rates.empty()) return std::nullopt;
  std::sort(rates.begin(), rates.end());
  return PrefillRates{rates[rates.size() / 2], rates[std::min(rates.size() - 1, rates.size() * 9 / 10)]};
}

std::vector<CostSegment> black_box_segments(std::span<const RequestTimeline> requests, const TokenCostModel& model) {
  std::vector<CostSegment> out;
  const auto rates = prefill_rates(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    const double first = r.first_token_s ? *r.first_token_s : r.end_s;
    // A request that failed before its first token is charged the part of its prompt the
    // run's median prefill rate gets through in the time it was in flight (a refusal after
    // a millisecond: almost nothing; a failure late in a long prefill: its whole prompt).
    std::uint64_t prompt = r.input_tokens;
    if (!r.first_token_s && rates)
      prompt =
          std::min<std::uint64_t>(prompt, static_cast<std::uint64_t>(std::ceil(rates->median * (r.end_s - r.send_s))));
    // The prompt's work is the end of its wait for the first token: as long as the run's
    // fast prefill rate takes over it; the time before is queueing (no cost of its own).
    double start = r.send_s;
    if (r.first_token_s && rates && rates->fast > 0)
      start = std::max(r.send_s, first - static_cast<double>(r.input_tokens) / rates->fast);
    out.push_back({i, start, std::max(start, first), model.prefill_cost(prompt), true});
    for (std::size_t k = 1; k < r.token_s.size(); ++k) {
      const double t0 = r.token_s[k - 1], t1 = std::max(t0, r.token_s[k]);
      out.push_back({i, t0, t1, model.decode_cost(r.input_tokens + k), false});
    }
  }
  return out;
}

std::vector<CostSegment> white_box_segments(std::span<const EngineStep> steps, const TokenCostModel& model) {
  std::vector<CostSegment> out;
  for (const auto& s : steps)
    for (const auto& w : s.work) {
      const double cost = w.prefill ? model.prefill_cost(w.tokens, w.context)
                                    : static_cast<double>(w.tokens) * model.decode_cost(w.context);
      out.push_back({w.request, s.t0_s, std::max(s.t0_s, s.t1_s), cost, w.prefill});
    }
  return out;
}

Result<IdlePolicy> parse_idle_policy(std::string_view name) {
  if (name == "none") return IdlePolicy::kNone;
  if (name == "time") return IdlePolicy::kTime;
  if (name == "tokens") return IdlePolicy::kTokens;
  return make_error(Errc::kInvalidArgument, fmt::format("idle policy '{}': want none, time or tokens", name));
}

std::string_view idle_policy_name(IdlePolicy p) {
  switch (p) {
    case IdlePolicy::kNone: return "none";
    case IdlePolicy::kTime: return "time";
    case IdlePolicy::kTokens: return "tokens";
  }
  return "none";
}

Result<Attribution> attribute(std::span<const EnergySlice> slices, std::span<const CostSegment> segments,
                              std::span<const RequestTimeline> timelines, const AttributionOptions& options) {
  if (auto st = check_inputs(slices, segments, timelines, options); !st) return st.error();
  Attribution a;
  a.idle_policy = options.idle_policy;
  a.requests.resize(timelines.size());
  const bool above = options.idle_power_w.has_value();
  std::vector<double> above_j(timelines.size(), 0.0);
  double idle_above_j = 0.0, total_above_j = 0.0;
  const auto weights = slices.empty() ? std::vector<std::vector<Share>>{} : segment_weights(slices, segments);
  InFlight flight(timelines);
  std::vector<Share> waiting;
  for (std::size_t k = 0; k < slices.size(); ++k) {
    const auto& s = slices[k];
    a.total_j += s.energy_j;
    const double s_above = above ? s.energy_j - *options.idle_power_w * (s.t1_s - s.t0_s) : 0.0;
    total_above_j += s_above;
    flight.advance(s.t0_s, s.t1_s);
    if (weights[k].empty()) waiting = in_flight(timelines, flight.active(), s.t0_s, s.t1_s);
    const std::vector<Share>& shares = weights[k].empty() ? waiting : weights[k];
    double sum = 0.0;
    for (const auto& sh : shares) sum += sh.prefill + sh.decode;
    if (sum <= 0.0) {
      a.idle_j += s.energy_j;
      idle_above_j += s_above;
      continue;
    }
    for (const auto& sh : shares) {
      auto& r = a.requests[sh.request];
      r.prefill_j += s.energy_j * sh.prefill / sum;
      r.decode_j += s.energy_j * sh.decode / sum;
      above_j[sh.request] += s_above * (sh.prefill + sh.decode) / sum;
    }
  }
  // The idle energy, apportioned by the policy or left apart.
  double idle_weights = 0.0;
  for (const auto& t : timelines) idle_weights += idle_weight(t, options.idle_policy);
  a.unattributed_idle_j = a.idle_j;
  double unattributed_above = idle_above_j;
  if (idle_weights > 0.0) {
    for (std::size_t i = 0; i < timelines.size(); ++i) {
      const double w = idle_weight(timelines[i], options.idle_policy) / idle_weights;
      a.requests[i].idle_j = a.idle_j * w;
      above_j[i] += idle_above_j * w;
    }
    a.unattributed_idle_j = 0.0;
    unattributed_above = 0.0;
  }
  for (std::size_t i = 0; i < timelines.size(); ++i) {
    auto& r = a.requests[i];
    r.energy_j = r.prefill_j + r.decode_j + r.idle_j;
    a.attributed_j += r.energy_j;
    if (above) r.above_idle_j = above_j[i];
  }
  if (above) {
    a.total_above_idle_j = total_above_j;
    a.unattributed_above_idle_j = unattributed_above;
    a.attributed_above_idle_j = std::accumulate(above_j.begin(), above_j.end(), 0.0);
  }
  return a;
}

}  // namespace jouleperf
