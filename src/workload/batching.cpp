#include "jouleperf/workload/batching.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <string>
#include <utility>

#include "jouleperf/workload/fields.hpp"

namespace jouleperf::workload {

Result<std::uint64_t> max_batch_size(const MemoryModel& m, std::uint64_t input_tokens, std::uint64_t output_tokens) {
  if (!(m.budget_bytes > 0) || !std::isfinite(m.budget_bytes))
    return make_error(Errc::kInvalidArgument, "memory budget must be a positive number of bytes");
  if (!(m.kv_bytes_per_token > 0) || !std::isfinite(m.kv_bytes_per_token))
    return make_error(Errc::kInvalidArgument, "KV bytes per token must be positive");
  if (!(m.weights_bytes >= 0) || !std::isfinite(m.weights_bytes))
    return make_error(Errc::kInvalidArgument, "weight bytes must be >= 0");
  if (m.max_batch == 0) return make_error(Errc::kInvalidArgument, "max batch must be >= 1");
  if (input_tokens + output_tokens == 0) return make_error(Errc::kInvalidArgument, "a bin of 0 tokens has no KV size");
  const double free_bytes = m.budget_bytes - m.weights_bytes;
  if (free_bytes <= 0) return std::uint64_t{0};
  const double per_request = m.kv_bytes_per_token * static_cast<double>(input_tokens + output_tokens);
  const double b = std::floor(free_bytes / per_request);
  if (b >= static_cast<double>(m.max_batch)) return m.max_batch;
  return static_cast<std::uint64_t>(b);
}

Result<double> parse_bytes(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::size_t unit_at = t.size();
  while (unit_at > 0 &&
         ((t[unit_at - 1] >= 'a' && t[unit_at - 1] <= 'z') || (t[unit_at - 1] >= 'A' && t[unit_at - 1] <= 'Z')))
    --unit_at;
  // An exponent ("1.5e9") is part of the number, not a unit.
  if (unit_at < t.size() && (t[unit_at] == 'e' || t[unit_at] == 'E') && unit_at + 1 == t.size()) unit_at = t.size();
  std::string_view num = t.substr(0, unit_at), unit = t.substr(unit_at);
  while (!num.empty() && num.back() == ' ') num.remove_suffix(1);
  auto v = parse_finite(num, "byte count");
  if (!v.ok() || *v < 0)
    return make_error(Errc::kInvalidArgument, "bad byte count '" + std::string(text) + "' (e.g. 80GiB, 16GB, 1.5e9)");
  static constexpr std::pair<std::string_view, double> kUnits[] = {{"", 1.0},
                                                                   {"B", 1.0},
                                                                   {"kB", 1e3},
                                                                   {"KB", 1e3},
                                                                   {"MB", 1e6},
                                                                   {"GB", 1e9},
                                                                   {"TB", 1e12},
                                                                   {"KiB", 1024.0},
                                                                   {"MiB", 1048576.0},
                                                                   {"GiB", 1073741824.0},
                                                                   {"TiB", 1099511627776.0}};
  for (const auto& [name, scale] : kUnits)
    if (unit == name) return *v * scale;
  return make_error(Errc::kInvalidArgument, "unknown byte unit '" + std::string(unit) + "' in '" + std::string(text) +
                                                "' (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)");
}

Result<std::vector<std::vector<std::uint64_t>>> batch_size_matrix(const MemoryModel& m,
                                                                  std::span<const std::uint64_t> input_edges,
                                                                  std::span<const std::uint64_t> output_edges) {
  std::vector<std::vector<std::uint64_t>> out(input_edges.size(), std::vector<std::uint64_t>(output_edges.size(), 0));
  for (std::size_t i = 0; i < input_edges.size(); ++i)
    for (std::size_t o = 0; o < output_edges.size(); ++o) {
      auto b = max_batch_size(m, input_edges[i], output_edges[o]);
      if (!b.ok()) return b.error();
      out[i][o] = *b;
    }
  return out;
}

Result<ConcurrencyStats> concurrency_distribution(std::vector<TimedRequest>& jobs, const ServiceModel& s,
                                                  std::uint64_t cap) {
  if (!(s.decode_s_per_token >= 0) || !std::isfinite(s.decode_s_per_token) || !(s.prefill_s_per_token >= 0) ||
      !std::isfinite(s.prefill_s_per_token))
    return make_error(Errc::kInvalidArgument, "per-token times must be finite and >= 0");
  if (s.decode_s_per_token == 0 && s.prefill_s_per_token == 0)
    return make_error(Errc::kInvalidArgument, "a service time needs a per-token decode or prefill time > 0");
  if (jobs.empty()) return make_error(Errc::kInvalidArgument, "no requests with arrival times");
  std::sort(jobs.begin(), jobs.end(),
            [](const TimedRequest& a, const TimedRequest& b) { return a.arrival_s < b.arrival_s; });
  std::priority_queue<double, std::vector<double>, std::greater<>> ends;
  std::vector<double> time_at;  // [k] seconds with k in flight
  std::uint64_t level = 0;
  double t_prev = jobs.front().arrival_s;
  auto advance = [&](double t) {
    if (time_at.size() <= level) time_at.resize(level + 1, 0.0);
    time_at[level] += t - t_prev;
    t_prev = t;
  };
  for (const TimedRequest& j : jobs) {
    while (!ends.empty() && ends.top() <= j.arrival_s) {
      advance(ends.top());
      ends.pop();
      --level;
    }
    advance(j.arrival_s);
    ++level;
    ends.push(j.arrival_s + s.prefill_s_per_token * j.input_tokens + s.decode_s_per_token * j.output_tokens);
  }
  while (!ends.empty()) {
    advance(ends.top());
    ends.pop();
    --level;
  }
  ConcurrencyStats c;
  c.span_s = t_prev - jobs.front().arrival_s;
  if (time_at.empty()) time_at.push_back(0.0);
  c.max = time_at.size() - 1;
  while (c.max > 0 && time_at[c.max] == 0.0) --c.max;
  time_at.resize(c.max + 1);
  c.time_share.resize(time_at.size(), 0.0);
  if (c.span_s <= 0) {
    // Every request took no time: report the instantaneous count.
    c.time_share.assign(time_at.size(), 0.0);
    c.max = 0;
    return c;
  }
  double cum = 0.0;
  bool have50 = false, have90 = false, have99 = false;
  for (std::size_t k = 0; k < time_at.size(); ++k) {
    const double share = time_at[k] / c.span_s;
    c.time_share[k] = share;
    c.mean += static_cast<double>(k) * share;
    if (k > 0) c.busy_share += share;
    if (cap > 0 && k > cap) c.above_cap_share += share;
    cum += share;
    if (!have50 && cum >= 0.5 - 1e-12) {
      c.p50 = k;
      have50 = true;
    }
    if (!have90 && cum >= 0.9 - 1e-12) {
      c.p90 = k;
      have90 = true;
    }
    if (!have99 && cum >= 0.99 - 1e-12) {
      c.p99 = k;
      have99 = true;
    }
  }
  if (!have50) c.p50 = c.max;
  if (!have90) c.p90 = c.max;
  if (!have99) c.p99 = c.max;
  return c;
}

}  // namespace jouleperf::workload
