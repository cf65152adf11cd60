// Measurement files of steady-state serving runs, and the simulator's steady state.
#include "jouleperf/sim/serving.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "jouleperf/core/text.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sim/step.hpp"
#include "replica.hpp"

namespace jouleperf::sim {

namespace {

std::vector<std::string_view> split_csv_line(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

constexpr std::string_view kRequired[] = {"gpu",          "model",          "num_gpus",
                                          "max_num_seqs", "avg_batch_size", "avg_output_tokens"};
constexpr std::string_view kFigures[] = {"avg_power_w", "j_per_output_token", "j_per_request", "median_itl_ms",
                                         "output_tokens_per_s"};

}  // namespace

Result<std::vector<ServingMeasurement>> parse_serving_measurements(std::string_view text, const std::string& origin) {
  std::map<std::string, std::size_t, std::less<>> col;
  std::size_t header_line = 0;
  std::vector<ServingMeasurement> rows;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto cells = split_csv_line(line);
    if (header_line == 0) {
      header_line = line_no;
      for (std::size_t i = 0; i < cells.size(); ++i) col.emplace(std::string(cells[i]), i);
      for (auto name : kRequired)
        if (col.find(name) == col.end())
          return make_error(Errc::kParse, fmt::format("{}:{}: field '{}': the header lacks this required column",
                                                      origin, line_no, name));
      if (std::none_of(std::begin(kFigures), std::end(kFigures), [&](std::string_view f) { return col.count(f) > 0; }))
        return make_error(Errc::kParse,
                          fmt::format("{}:{}: field 'avg_power_w': the header has none of avg_power_w, "
                                      "j_per_output_token, j_per_request, median_itl_ms, output_tokens_per_s",
                                      origin, line_no));
      continue;
    }
    auto bad = [&](std::string_view field, std::string_view why) {
      return make_error(Errc::kParse, fmt::format("{}:{}: field '{}': {}", origin, line_no, field, why));
    };
    auto cell = [&](std::string_view name) -> std::optional<std::string_view> {
      auto it = col.find(name);
      if (it == col.end() || it->second >= cells.size()) return std::nullopt;
      return cells[it->second];
    };
    // A positive number; `required` makes an absent or empty cell an error.
    auto number = [&](std::string_view name, bool required) -> Result<std::optional<double>> {
      auto c = cell(name);
      if (!c) {
        if (col.count(name) > 0)
          return bad(name, fmt::format("the row has {} cells, the header {}", cells.size(), col.size()));
        if (required) return bad(name, "missing");
        return std::optional<double>{};
      }
      if (c->empty()) {
        if (required) return bad(name, "empty");
        return std::optional<double>{};
      }
      auto v = parse_double(*c);
      if (!v) return bad(name, fmt::format("'{}' is not a number", *c));
      if (!(std::isfinite(*v) && *v > 0.0)) return bad(name, fmt::format("{} is not a positive figure", *c));
      return std::optional<double>{*v};
    };
    ServingMeasurement m;
    m.line = line_no;
    for (std::string_view name : {std::string_view("gpu"), std::string_view("model")}) {
      auto c = cell(name);
      if (!c || c->empty()) return bad(name, "missing");
      (name == "gpu" ? m.gpu : m.model) = std::string(*c);
    }
    auto whole = [&](std::string_view name, std::uint32_t& out) -> Status {
      auto v = number(name, true);
      if (!v) return v.error();
      const double x = **v;
      if (x != std::floor(x) || x > 1e9) return bad(name, fmt::format("{} is not a whole number", x));
      out = static_cast<std::uint32_t>(x);
      return {};
    };
    if (auto st = whole("num_gpus", m.num_gpus); !st) return st.error();
    if (auto st = whole("max_num_seqs", m.max_num_seqs); !st) return st.error();
    auto batch = number("avg_batch_size", true);
    if (!batch) return batch.error();
    m.mean_batch = **batch;
    if (m.mean_batch > m.max_num_seqs * (1.0 + 1e-9))
      return bad("avg_batch_size", fmt::format("{} is above max_num_seqs {}", m.mean_batch, m.max_num_seqs));
    auto out = number("avg_output_tokens", true);
    if (!out) return out.error();
    m.mean_output_tokens = **out;
    auto in = number("avg_input_tokens", false);
    if (!in) return in.error();
    m.mean_input_tokens = *in;
    struct Opt {
      std::string_view name;
      std::optional<double>* to;
      double scale;
    };
    for (const Opt& o : {Opt{"avg_power_w", &m.power_w, 1.0}, Opt{"j_per_output_token", &m.j_per_output_token, 1.0},
                         Opt{"j_per_request", &m.j_per_request, 1.0}, Opt{"median_itl_ms", &m.median_itl_s, 1e-3},
                         Opt{"output_tokens_per_s", &m.output_tokens_per_s, 1.0}}) {
      auto v = number(o.name, false);
      if (!v) return v.error();
      if (*v) *o.to = **v * o.scale;
    }
    if (!m.power_w && !m.j_per_output_token && !m.j_per_request && !m.median_itl_s && !m.output_tokens_per_s)
      return bad("avg_power_w", "the row has no measured figure (power, energy, latency or throughput)");
    rows.push_back(std::move(m));
  }
  if (header_line == 0) return make_error(Errc::kParse, fmt::format("{}: no header line", origin));
  if (rows.empty()) return make_error(Errc::kParse, fmt::format("{}: no measurement rows after the header", origin));
  return rows;
}

Result<std::vector<ServingMeasurement>> load_serving_measurements(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_serving_measurements(*text, path);
}

Result<SteadyState> steady_state(const SimConfig& c, double mean_batch, double input_tokens, double output_tokens) {
  if (!(mean_batch > 0.0 && input_tokens > 0.0 && output_tokens > 0.0) ||
      !std::isfinite(mean_batch + input_tokens + output_tokens))
    return make_error(Errc::kInvalidArgument, "steady state: batch, input and output must be positive");
  auto dep = detail::make_deployment(c);
  if (!dep) return dep.error();
  SteadyState out;
  out.kv_capacity_tokens = dep->kv_capacity_tokens;
  out.kv_tokens_held = mean_batch * (input_tokens + output_tokens / 2.0);
  if (out.kv_tokens_held > out.kv_capacity_tokens)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{:.0f} sequences of {:.0f} + {:.0f}/2 tokens hold {:.0f} KV tokens; {} x {} (tp {}) "
                                  "holds {:.0f}",
                                  mean_batch, input_tokens, output_tokens, out.kv_tokens_held, c.tp, c.hardware.name,
                                  c.tp, out.kv_capacity_tokens));
  const StepModel& m = dep->target;
  const double context_sum = mean_batch * (input_tokens + output_tokens / 2.0);
  const double per_row_context = context_sum / mean_batch;
  // Requests finish, and new ones start, at lambda = mean_batch / output_tokens per step;
  // the number starting in a step is Poisson(lambda), each prompt prefilled whole in that
  // step beside the other rows' decode.
  const double lambda = mean_batch / output_tokens;
  const int k_max = static_cast<int>(std::ceil(lambda + 8.0 * std::sqrt(lambda) + 3.0));
  struct Kind {
    double p, duration_s, energy_j, rows;
  };
  std::vector<Kind> kinds;
  double pk = std::exp(-lambda), p_sum = 0, time = 0, energy = 0;
  for (int k = 0; k <= k_max; ++k) {
    if (k > 0) pk *= lambda / k;
    const double prompts = std::min(static_cast<double>(k), mean_batch);
    const double rows = mean_batch - prompts;
    StepShape shape = decode_rows(rows, per_row_context * rows);
    if (prompts > 0) shape += scaled(prefill_chunk(0.0, input_tokens, true, c.prefill_logits), prompts);
    const StepCost cost = m.evaluate(shape);
    kinds.push_back({pk, cost.duration_s, cost.energy_j, rows});
    p_sum += pk;
    time += pk * cost.duration_s;
    energy += pk * cost.energy_j;
    if (k == 0) out.decode_step_s = cost.duration_s;
  }
  time /= p_sum;
  energy /= p_sum;
  out.prompt_step_share = 1.0 - std::exp(-lambda);
  double prompt_time = 0;
  for (std::size_t k = 1; k < kinds.size(); ++k) prompt_time += kinds[k].p * kinds[k].duration_s;
  out.prompt_step_s = out.prompt_step_share > 0 ? prompt_time / std::max(p_sum - kinds[0].p, 1e-300) : 0.0;
  out.mean_step_s = time;
  // Median inter-token latency: the step duration half of the decoded tokens wait at most
  // (each decoding row of a step waits its duration once).
  std::vector<std::pair<double, double>> by_duration;  // duration, token weight
  double weight_sum = 0;
  for (const auto& k : kinds) {
    by_duration.push_back({k.duration_s, k.p * k.rows});
    weight_sum += k.p * k.rows;
  }
  std::sort(by_duration.begin(), by_duration.end());
  double acc = 0;
  out.median_itl_s = by_duration.back().first;
  for (const auto& [d, w] : by_duration) {
    acc += w;
    if (acc >= 0.5 * weight_sum) {
      out.median_itl_s = d;
      break;
    }
  }
  out.output_tokens_per_s = mean_batch / out.mean_step_s;
  out.power_w = energy / out.mean_step_s;
  out.j_per_output_token = energy / mean_batch;
  out.j_per_request = out.j_per_output_token * output_tokens;
  return out;
}

Result<SimConfig> measurement_config(const ServingMeasurement& m, const hardware::HardwareRegistry& registry,
                                     const SoftwareStack& stack, const PowerModel& power, const std::string& origin) {
  auto hw = registry.find(m.gpu);
  if (!hw)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}:{}: field 'gpu': {}", origin, m.line, hw.error().message));
  auto arch = find_builtin_arch(m.model);
  if (!arch)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}:{}: field 'model': {}", origin, m.line, arch.error().message));
  SimConfig c = make_config(*hw, stack, info_from_arch(*arch));
  c.power = power;
  c.tp = m.num_gpus;
  c.max_batch = m.max_num_seqs;
  c.keep_requests = false;
  c.timeline_bins = 1;
  return c;
}

}  // namespace jouleperf::sim
