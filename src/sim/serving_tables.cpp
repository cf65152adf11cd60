#include "jouleperf/sim/serving_tables.hpp"

namespace jouleperf::sim {

using table::Column;
using table::Table;
using table::Value;

std::vector<Column> serving_columns() {
  return {{"line", "line of the measurements file"},
          {"gpu", "hardware profile"},
          {"model", "model"},
          {"num_gpus", "tensor-parallel GPUs"},
          {"max_num_seqs", "engine max batch"},
          {"mean_batch", "measured mean batch"},
          {"input_tokens", "prompt length used (the row's or the assumed one)"},
          {"measured_j_per_token", "measured GPU energy per output token, J"},
          {"simulated_j_per_token", "simulated, J"},
          {"j_per_token_err_pct", "simulated / measured - 1, %"},
          {"measured_power_w", "measured mean power, all GPUs, W"},
          {"simulated_power_w", "simulated, W"},
          {"power_err_pct", "%"},
          {"measured_itl_ms", "measured median inter-token latency, ms"},
          {"simulated_itl_ms", "simulated, ms"},
          {"itl_err_pct", "%"},
          {"measured_tokens_per_s", "measured output tokens per second"},
          {"simulated_tokens_per_s", "simulated"},
          {"tokens_per_s_err_pct", "%"}};
}

std::vector<Column> serving_error_columns() {
  return {{"figure", "what is compared"},
          {"rows", "rows that carry it"},
          {"median_abs_err_pct", "median |simulated / measured - 1|, %"},
          {"worst_abs_err_pct", "largest |simulated / measured - 1|, %"}};
}

Table serving_table(const std::vector<sim::ServingComparison>& rows, std::string name, std::string title) {
  Table t;
  t.name = std::move(name);
  t.title = std::move(title);
  t.columns = serving_columns();
  auto opt = [](const std::optional<double>& v, double scale = 1.0) -> Value {
    if (!v) return std::monostate{};
    return *v * scale;
  };
  for (const auto& r : rows) {
    const auto& m = r.measured;
    const auto& p = r.predicted;
    t.rows.push_back({static_cast<std::int64_t>(m.line), m.gpu, m.model, static_cast<std::int64_t>(m.num_gpus),
                      static_cast<std::int64_t>(m.max_num_seqs), m.mean_batch, r.input_tokens,
                      opt(m.j_per_output_token), p.j_per_output_token, opt(r.j_per_token_err, 100.0), opt(m.power_w),
                      p.power_w, opt(r.power_err, 100.0), opt(m.median_itl_s, 1e3), p.median_itl_s * 1e3,
                      opt(r.itl_err, 100.0), opt(m.output_tokens_per_s), p.output_tokens_per_s,
                      opt(r.throughput_err, 100.0)});
  }
  return t;
}

Table serving_error_table(const ServingErrors& e, std::string name, std::string title) {
  Table t;
  t.name = std::move(name);
  t.title = std::move(title);
  t.columns = serving_error_columns();
  auto add = [&](const char* what, const ErrorSummary& s) {
    if (s.rows == 0) return;
    t.rows.push_back({std::string(what), static_cast<std::int64_t>(s.rows), 100.0 * s.median_abs, 100.0 * s.worst_abs});
  };
  add("j_per_output_token", e.j_per_token);
  add("power_w", e.power);
  add("median_itl", e.itl);
  add("output_tokens_per_s", e.throughput);
  add("j_per_request", e.j_per_request);
  return t;
}

}  // namespace jouleperf::sim
