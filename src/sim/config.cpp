#include "jouleperf/sim/config.hpp"

#include <fmt/format.h>

#include <cmath>

namespace jouleperf::sim {

Result<RouterPolicy> parse_router(std::string_view s) {
  if (s == "round-robin") return RouterPolicy::kRoundRobin;
  if (s == "least-loaded") return RouterPolicy::kLeastLoaded;
  return make_error(Errc::kInvalidArgument, fmt::format("router '{}': expected 'round-robin' or 'least-loaded'", s));
}

std::string_view router_name(RouterPolicy r) { return r == RouterPolicy::kRoundRobin ? "round-robin" : "least-loaded"; }

double expected_tokens_per_step(std::uint32_t gamma, double alpha) {
  if (gamma == 0) return 1.0;
  if (alpha >= 1.0) return static_cast<double>(gamma) + 1.0;
  return (1.0 - std::pow(alpha, static_cast<double>(gamma) + 1.0)) / (1.0 - alpha);
}

SimConfig make_config(const hardware::HardwareProfile& hw, const SoftwareStack& stack, const ModelInfo& model) {
  SimConfig c;
  c.hardware = hw;
  c.stack = stack;
  c.model = model;
  c.batching = stack.batching;
  c.power = default_power_model(hw.kind);
  if (stack.device == hardware::DeviceKind::kCpu) c.token_budget = 2048;  // llama-server's n_batch
  return c;
}

Status validate_config(const SimConfig& c) {
  auto bad = [](std::string what) { return make_error(Errc::kInvalidArgument, "simulation: " + what); };
  if (c.replicas < 1) return bad("replicas must be >= 1");
  if (c.tp < 1) return bad("tp must be >= 1");
  if (c.max_batch < 1) return bad("max_batch must be >= 1");
  if (c.token_budget < 1) return bad("token_budget must be >= 1");
  if (!(c.memory_utilization > 0.0 && c.memory_utilization <= 1.0)) return bad("memory_utilization must be in (0, 1]");
  if (!(c.static_wait_s >= 0.0) || !std::isfinite(c.static_wait_s)) return bad("static_wait_s must be >= 0");
  if (c.timeline_bins < 1) return bad("timeline_bins must be >= 1");
  const DecodingConfig& d = c.decoding;
  if (d.beam_width < 1) return bad("beam_width must be >= 1");
  if (d.spec_tokens > 0) {
    if (d.spec_tokens > 16) return bad("spec_tokens must be <= 16");
    if (!(d.spec_acceptance >= 0.0 && d.spec_acceptance <= 1.0)) return bad("spec_acceptance must be in [0, 1]");
    if (!d.draft) return bad("speculative decoding needs a draft model");
    if (d.draft->arch.vocab != c.model.arch.vocab)
      return bad(fmt::format("draft '{}' (vocabulary {}) and target '{}' (vocabulary {}) must share a tokenizer",
                             d.draft->arch.name, d.draft->arch.vocab, c.model.arch.name, c.model.arch.vocab));
    if (d.beam_width > 1)
      return make_error(Errc::kUnsupported, "simulation: beam search with speculative decoding is not modelled");
  }
  if (auto st = validate_power_model(c.power); !st) return st;
  return {};
}

}  // namespace jouleperf::sim
