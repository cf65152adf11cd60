#include "jouleperf/sim/documents.hpp"

#include <utility>

#include "jouleperf/sim/result_json.hpp"

namespace jouleperf::sim {

namespace {

using table::count_value;
using table::Table;
using table::Value;

Table quantities(std::string name, std::string title, std::vector<std::pair<std::string, Value>> rows) {
  Table t{std::move(name), std::move(title), {{"quantity", "what it is, its unit in the name"}, {"value", ""}}, {}};
  for (auto& [q, v] : rows) t.rows.push_back({q, std::move(v)});
  return t;
}

// A number, or an empty cell when `present` is false (never a zero standing in).
Value number_if(bool present, double v) {
  Value out;
  if (present) out = v;
  return out;
}

Table latency_table(const SimResult& r) {
  Table t{"latency",
          "Latency (s)",
          {{"metric", "TTFT: arrival to first token; TPOT: per output token after the first; e2e: arrival to end"},
           {"count", "requests with a value"},
           {"mean_s", ""},
           {"p50_s", ""},
           {"p90_s", ""},
           {"p99_s", ""},
           {"max_s", ""}},
          {}};
  for (const auto& [name, s] : {std::pair{"TTFT", &r.ttft}, std::pair{"TPOT", &r.tpot}, std::pair{"e2e", &r.e2e}}) {
    if (s->count == 0) {
      t.rows.push_back({name, std::int64_t{0}, {}, {}, {}, {}, {}});
      continue;
    }
    t.rows.push_back({name, count_value(s->count), s->mean, s->p50, s->p90, s->p99, s->max});
  }
  return t;
}

Table timeline_table(const SimResult& r) {
  Table t{"timeline",
          "Utilization over time",
          {{"start_s", ""},
           {"busy_pct", "share of device-time with a step running"},
           {"power_w", "mean power of all devices"},
           {"compute_util_pct", "share of peak matrix throughput while busy"},
           {"memory_util_pct", "share of peak bandwidth while busy"},
           {"mean_batch", "sequences per step while busy"}},
          {}};
  for (const auto& b : r.timeline)
    t.rows.push_back(
        {b.start_s, 100 * b.busy_share, b.power_w, 100 * b.compute_util, 100 * b.memory_util, b.mean_batch});
  return t;
}

}  // namespace

table::Document simulate_document(const SimResult& r, const SimConfig& config, const std::string& workload,
                                  bool per_request) {
  table::Document d;
  d.header = {kSimulatedBanner, r.description};
  if (!workload.empty()) d.header.push_back("workload: " + workload);
  const bool ideal = r.flops_ideal_energy_j > 0;
  d.tables.push_back(
      quantities("summary", "Simulated serving",
                 {{"completed", count_value(r.completed)},
                  {"rejected", count_value(r.rejected)},
                  {"preemptions", count_value(r.preemptions)},
                  {"steps", count_value(r.steps)},
                  {"events", count_value(r.events)},
                  {"span_s", r.span_s},
                  {"devices", r.devices},
                  {"busy_pct", 100 * r.busy_share},
                  {"mean_batch", r.mean_batch},
                  {"energy_j", r.energy_j},
                  {"active_energy_j", r.active_energy_j},
                  {"idle_energy_j", r.idle_energy_j},
                  {"idle_share_pct", 100 * r.idle_share},
                  {"mean_power_w", r.mean_power_w},
                  {"energy_per_request_j", r.energy_per_request_j},
                  {"energy_per_output_token_j", r.energy_per_output_token_j},
                  {"energy_per_token_j", r.energy_per_token_j},
                  {"flops_ideal_energy_j", number_if(ideal, r.flops_ideal_energy_j)},
                  {"energy_over_flops_ideal", number_if(ideal, r.energy_j / (ideal ? r.flops_ideal_energy_j : 1))},
                  {"throughput_rps", r.throughput_rps},
                  {"output_tokens_per_s", r.output_tokens_per_s}}));
  d.tables.push_back(latency_table(r));
  d.tables.push_back(timeline_table(r));
  d.json = to_json(r, per_request);
  d.json["config"] = to_json(config);
  d.json["workload"] = workload;
  return d;
}

table::Document batch_document(const BatchRun& b, const SimConfig& config, std::uint32_t batch,
                               std::uint32_t input_tokens, std::uint32_t output_tokens, bool per_request) {
  table::Document d;
  d.header = {kSimulatedBanner};
  d.json = {{"simulated", true},
            {"config", to_json(config)},
            {"batch", batch},
            {"input_tokens", input_tokens},
            {"output_tokens", output_tokens},
            {"fits", b.fits}};
  if (!b.fits) {
    d.footer.push_back("a batch of " + std::to_string(batch) + " x (" + std::to_string(input_tokens) + " + " +
                       std::to_string(output_tokens) + " tokens) does not fit the KV cache of " + config.hardware.name);
    return d;
  }
  d.header.push_back(b.detail.description);
  d.header.push_back("batch " + std::to_string(batch) + " x (" + std::to_string(input_tokens) + " prompt + " +
                     std::to_string(output_tokens) + " generated tokens)");
  d.tables.push_back(quantities("batch", "Simulated batch",
                                {{"duration_s", b.duration_s},
                                 {"steps", count_value(b.steps)},
                                 {"energy_j", b.energy_j},
                                 {"energy_per_request_j", b.energy_per_request_j},
                                 {"flops_ideal_energy_j", b.flops_ideal_energy_j},
                                 {"energy_over_flops_ideal", b.energy_j / b.flops_ideal_energy_j},
                                 {"ttft_mean_s", b.ttft_mean_s},
                                 {"prefill_s", b.prefill_s},
                                 {"tpot_mean_s", b.tpot_mean_s}}));
  d.json["duration_s"] = b.duration_s;
  d.json["energy_j"] = b.energy_j;
  d.json["energy_per_request_j"] = b.energy_per_request_j;
  d.json["ttft_mean_s"] = b.ttft_mean_s;
  d.json["tpot_mean_s"] = b.tpot_mean_s;
  d.json["flops_ideal_energy_j"] = b.flops_ideal_energy_j;
  d.json["result"] = to_json(b.detail, per_request);
  return d;
}

table::Document stacks_document(const std::vector<SoftwareStack>& stacks) {
  Table t{"stacks",
          "Software stacks (simulator)",
          {{"name", ""},
           {"device", ""},
           {"batching", ""},
           {"compute_efficiency", "share of peak matrix throughput reached"},
           {"memory_efficiency", "share of peak bandwidth reached"},
           {"kernels_per_layer", ""},
           {"kernels_fixed", ""},
           {"kernel_gap_us", "device-side gap per kernel"},
           {"host_us_per_kernel", ""},
           {"decode_graphs", "decode steps replay a captured graph"},
           {"host_ms_per_step", "serial host time per step"},
           {"host_us_per_sequence", ""},
           {"fitted", "what the parameters were fitted to, or none"},
           {"description", ""},
           {"rationale", ""}},
          {}};
  table::Document d;
  d.json = nlohmann::json::array();
  for (const auto& s : stacks) {
    t.rows.push_back({s.name, std::string(hardware::device_kind_name(s.device)), std::string(batching_name(s.batching)),
                      s.compute_efficiency, s.memory_efficiency, s.kernels_per_layer, s.kernels_fixed,
                      s.kernel_gap_s * 1e6, s.host_s_per_kernel * 1e6, s.decode_graphs, s.host_s_per_step * 1e3,
                      s.host_s_per_sequence * 1e6,
                      s.calibration.empty() ? std::string("none (engineering estimates)") : s.calibration,
                      s.description, s.rationale});
    d.json.push_back(to_json(s));
  }
  d.tables.push_back(std::move(t));
  return d;
}

}  // namespace jouleperf::sim
