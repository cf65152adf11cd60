#include "jouleperf/sim/result_json.hpp"

#include <cmath>

namespace jouleperf::sim {
namespace {

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json to_json(const LatencySummary& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"max", s.max}};
}

}  // namespace

nlohmann::json to_json(const SimConfig& c) {
  nlohmann::json j{
      {"hardware", c.hardware.name},
      {"stack", c.stack.name},
      {"model", c.model.arch.name},
      {"precision", weight_precision_name(c.precision)},
      {"tp", c.tp},
      {"replicas", c.replicas},
      {"router", router_name(c.router)},
      {"batching", batching_name(c.batching)},
      {"max_batch", c.max_batch},
      {"token_budget", c.token_budget},
      {"chunked_prefill", c.chunked_prefill},
      {"memory_utilization", c.memory_utilization},
      {"static_wait_s", c.static_wait_s},
      {"prefill_logits", logits_mode_name(c.prefill_logits)},
      {"beam_width", c.decoding.beam_width},
      {"spec_tokens", c.decoding.spec_tokens},
      {"spec_acceptance", c.decoding.spec_acceptance},
      {"draft", c.decoding.draft ? nlohmann::json(c.decoding.draft->arch.name) : nlohmann::json(nullptr)},
      {"power",
       {{"active_floor", c.power.active_floor},
        {"memory_weight", c.power.memory_weight},
        {"exponent", c.power.exponent},
        {"compute_weight", c.power.compute_weight}}},
  };
  if (c.clocks.any()) {  // only when set: a configuration without clock settings reads as before
    j["clocks"] = {
        {"power_limit_w", c.clocks.power_limit_w ? nlohmann::json(*c.clocks.power_limit_w) : nlohmann::json()},
        {"clock_ratio", c.clocks.clock_ratio ? nlohmann::json(*c.clocks.clock_ratio) : nlohmann::json()},
        {"prefill_clock_ratio", c.clocks.phased() ? nlohmann::json(c.clocks.ratio_for(true)) : nlohmann::json()},
        {"decode_clock_ratio", c.clocks.phased() ? nlohmann::json(c.clocks.ratio_for(false)) : nlohmann::json()}};
  }
  return j;
}

nlohmann::json to_json(const SimResult& r, bool per_request) {
  nlohmann::json j{
      {"simulated", true},
      {"description", r.description},
      {"requests", r.requests},
      {"completed", r.completed},
      {"rejected", r.rejected},
      {"truncated", r.truncated},
      {"preemptions", r.preemptions},
      {"peak_sequences", r.peak_sequences},
      {"kv_limited", r.kv_limited},
      {"steps", r.steps},
      {"events", r.events},
      {"input_tokens", r.input_tokens},
      {"output_tokens", r.output_tokens},
      {"devices", r.devices},
      {"span_s", r.span_s},
      {"energy_j", r.energy_j},
      {"active_energy_j", r.active_energy_j},
      {"idle_energy_j", r.idle_energy_j},
      {"idle_share", r.idle_share},
      {"busy_share", r.busy_share},
      {"energy_per_request_j", r.energy_per_request_j},
      {"energy_per_output_token_j", r.energy_per_output_token_j},
      {"energy_per_token_j", r.energy_per_token_j},
      {"throughput_rps", r.throughput_rps},
      {"output_tokens_per_s", r.output_tokens_per_s},
      {"mean_power_w", r.mean_power_w},
      {"mean_batch", r.mean_batch},
      {"simulated_flops", r.simulated_flops},
      {"request_flops", r.request_flops},
      {"flops_ideal_energy_j", r.flops_ideal_energy_j},
      {"kv_capacity_tokens", r.kv_capacity_tokens},
      {"ttft_s", to_json(r.ttft)},
      {"tpot_s", to_json(r.tpot)},
      {"e2e_s", to_json(r.e2e)},
  };
  nlohmann::json tl = nlohmann::json::array();
  for (const auto& b : r.timeline)
    tl.push_back({{"start_s", b.start_s},
                  {"duration_s", b.duration_s},
                  {"busy_share", b.busy_share},
                  {"power_w", b.power_w},
                  {"compute_util", b.compute_util},
                  {"memory_util", b.memory_util},
                  {"mean_batch", b.mean_batch}});
  j["timeline"] = std::move(tl);
  if (per_request) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& o : r.per_request)
      a.push_back({{"ttft_s", num(o.ttft_s)},
                   {"tpot_s", num(o.tpot_s)},
                   {"e2e_s", num(o.e2e_s)},
                   {"energy_j", num(o.energy_j)}});
    j["per_request"] = std::move(a);
  }
  return j;
}

nlohmann::json to_json(const SoftwareStack& s) {
  return {
      {"name", s.name},
      {"description", s.description},
      {"device", hardware::device_kind_name(s.device)},
      {"batching", batching_name(s.batching)},
      {"compute_efficiency", s.compute_efficiency},
      {"decode_attention_efficiency", s.decode_attention_efficiency},
      {"decode_matmul_efficiency", s.decode_matmul_efficiency},
      {"memory_efficiency", s.memory_efficiency},
      {"kernels_per_layer", s.kernels_per_layer},
      {"kernels_fixed", s.kernels_fixed},
      {"kernel_gap_s", s.kernel_gap_s},
      {"host_s_per_kernel", s.host_s_per_kernel},
      {"graph_launch_s", s.graph_launch_s},
      {"decode_graphs", s.decode_graphs},
      {"prefill_graphs", s.prefill_graphs},
      {"graph_max_batch", s.graph_max_batch},
      {"host_s_per_step", s.host_s_per_step},
      {"host_s_per_sequence", s.host_s_per_sequence},
      {"tp_host_s_per_step", s.tp_host_s_per_step},
      {"activation_passes_dim", s.activation_passes_dim},
      {"activation_passes_ffn", s.activation_passes_ffn},
      {"logit_passes", s.logit_passes},
      {"kv_cache_copy_passes", s.kv_cache_copy_passes},
      {"gqa_expand", s.gqa_expand},
      {"attends_allocated_cache", s.attends_allocated_cache},
      {"beams_share_prompt", s.beams_share_prompt},
      {"beams_prefill_once", s.beams_prefill_once},
      {"beam_reorder_copy", s.beam_reorder_copy},
      {"rationale", s.rationale},
      {"calibration", s.calibration},
      {"attention_roofline_separate", s.attention_roofline_separate},
  };
}

}  // namespace jouleperf::sim
