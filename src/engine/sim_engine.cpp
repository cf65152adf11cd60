// The sim engine: one controlled batch priced by sim::simulate_batch. The prefill phase's
// energy is the simulation of the same batch with one output token (every sequence has
// its first token when it ends); decode is the rest. The decoding strategy maps onto the
// simulator's DecodingConfig (beam width; speculative gamma, alpha and draft model).
#include "jouleperf/engine/sim_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "jouleperf/engine/serve.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/sim/simulator.hpp"
#include "jouleperf/sim/stack.hpp"

namespace jouleperf {

namespace {

Status apply_strategy(const BatchRequest& request, sim::DecodingConfig& d);
ServedRequest simulated_request(double start_s, const ServeRequest& r, const sim::RequestOutcome& o);

class SimEngine final : public Engine {
 public:
  SimEngine(sim::SimConfig config, EngineInfo info) : config_(std::move(config)), info_(std::move(info)) {}

  const EngineInfo& info() const override { return info_; }

  Result<BatchResult> run_batch(const BatchRequest& request, const Clock& clock, Meter* meter) override {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
    if (request.batch == 0 || request.input_tokens == 0 || request.output_tokens == 0)
      return make_error(Errc::kInvalidArgument, "sim engine: batch, input and output tokens must be >= 1");
    if (request.batch > kMax || request.input_tokens > kMax || request.output_tokens > kMax)
      return make_error(Errc::kInvalidArgument, "sim engine: batch or length too large");
    const auto b = static_cast<std::uint32_t>(request.batch);
    const auto in = static_cast<std::uint32_t>(request.input_tokens);
    const auto out = static_cast<std::uint32_t>(request.output_tokens);
    if (config_.model.arch.context_length > 0 &&
        request.input_tokens + request.output_tokens > config_.model.arch.context_length)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("context too long: {} + {} tokens > the model's context of {}",
                                    request.input_tokens, request.output_tokens, config_.model.arch.context_length));

    sim::SimConfig c = config_;
    c.batching = request.batching == BatchingMode::kStatic ? sim::Batching::kStatic : sim::Batching::kContinuous;
    c.keep_requests = false;
    c.timeline_bins = 1;
    if (auto st = apply_strategy(request, c.decoding); !st) return st.error();
    const bool speculative = request.strategy == DecodeStrategy::kSpeculative;
    auto run = sim::simulate_batch(c, in, out, b);
    if (!run) return run.error();
    if (!run->fits)
      return make_error(Errc::kUnsupported,
                        fmt::format("does not fit: {} sequences of {} + {} tokens exceed the KV cache of {}",
                                    request.batch, request.input_tokens, request.output_tokens,
                                    run->detail.description.empty() ? info_.model : run->detail.description));
    double prefill_j = run->energy_j;
    std::uint64_t prefill_steps = run->steps;
    if (out > 1) {
      auto first = sim::simulate_batch(c, in, 1, b);
      if (!first) return first.error();
      prefill_j = std::min(first->energy_j, run->energy_j);
      prefill_steps = std::min(first->steps, run->steps);
    }

    // Timestamps: simulated offsets from now; the meter, if any, is started and marked so
    // callers can stop it, but measures only the simulation's own host work.
    BatchResult r;
    r.start_s = clock.now().value();
    if (meter) {
      if (auto st = meter->start("prefill"); !st) return st.error();
      if (auto st = meter->mark("decode"); !st) return st.error();
    }
    r.prefill_end_s = r.start_s + run->prefill_s;
    r.end_s = r.start_s + run->duration_s;
    r.input_tokens = request.batch * request.input_tokens;
    r.output_tokens = request.batch * request.output_tokens;
    // As the llamacpp engine counts them: target forwards after prefill (the steps of the
    // batch less those of its one-token prefill) and, speculating, the draft's gamma
    // forwards per such step. The simulator prices every draft token as judged at rate
    // alpha, and the expected per-token acceptance (accepted / (accepted + early stops))
    // of independent acceptances at rate alpha is alpha itself.
    r.decode_forwards = run->steps - prefill_steps;
    if (speculative) {
      r.draft_forwards = r.decode_forwards * c.decoding.spec_tokens;
      if (r.decode_forwards > 0) r.draft_acceptance = c.decoding.spec_acceptance;
    }
    const double tpot = out > 1 ? (run->duration_s - run->ttft_mean_s) / static_cast<double>(out - 1) : 0.0;
    r.sequences.resize(request.batch);
    for (auto& s : r.sequences) {
      s.input_tokens = request.input_tokens;
      s.start_s = r.start_s;
      s.tokens.assign(out, 0);
      s.token_s.resize(out);
      for (std::uint32_t k = 0; k < out; ++k) s.token_s[k] = r.start_s + run->ttft_mean_s + tpot * k;
    }
    r.simulated = SimulatedEnergy{run->energy_j, prefill_j, run->energy_j - prefill_j, run->detail.description};
    return r;
  }

  // The simulator serves the requests at their arrivals (its own scheduler, batched as
  // options.batching with max_batch and static_wait_s); every request's simulated
  // outcome becomes its record, labelled simulated. The meter, if any, is started and
  // left running but measures only the simulation's host work.
  Result<ServeResult> serve(const std::vector<ServeRequest>& requests, const ServeOptions& options, const Clock& clock,
                            Meter* meter) override {
    if (auto st = validate_serve(requests, options); !st) return st.error();
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
    std::vector<workload::TimedRequest> timed;
    for (const auto& q : requests) {
      if (q.input_tokens > kMax || q.output_tokens > kMax)
        return make_error(Errc::kInvalidArgument, "sim engine: length too large");
      timed.push_back(
          {q.arrival_s, static_cast<std::uint32_t>(q.input_tokens), static_cast<std::uint32_t>(q.output_tokens)});
    }
    sim::SimConfig c = config_;
    c.batching = options.batching == BatchingMode::kStatic ? sim::Batching::kStatic : sim::Batching::kContinuous;
    c.max_batch = options.max_batch;
    c.static_wait_s = options.static_wait_s;
    c.keep_requests = true;
    c.timeline_bins = 1;
    BatchRequest strategy;
    strategy.strategy = options.strategy;
    if (auto st = apply_strategy(strategy, c.decoding); !st) return st.error();
    if (meter)
      if (auto st = meter->start(); !st) return st.error();
    ServeResult out;
    out.start_s = clock.now().value();
    auto run = sim::simulate(c, timed);
    if (!run) return run.error();
    out.simulated = true;
    out.energy_j = run->energy_j;
    out.mean_batch = run->mean_batch;
    out.peak_batch = run->peak_sequences;
    out.forwards = run->steps;
    out.end_s = out.start_s;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const sim::RequestOutcome o =
          i < run->per_request.size() ? run->per_request[i] : sim::RequestOutcome{NAN, NAN, NAN, NAN};
      out.requests.push_back(simulated_request(out.start_s, requests[i], o));
      out.end_s = std::max(out.end_s, out.requests.back().end_s);
    }
    return out;
  }

 private:
  sim::SimConfig config_;
  EngineInfo info_;
};

// The simulator's decoding settings for one request. Sampling costs what greedy decoding
// costs: the simulator prices forwards (one token per sequence per step either way), and
// the sampler's host work is not modelled.
Status apply_strategy(const BatchRequest& request, sim::DecodingConfig& d) {
  d.beam_width = 1;
  d.spec_tokens = 0;
  switch (request.strategy) {
    case DecodeStrategy::kGreedy:
    case DecodeStrategy::kSample: return {};
    case DecodeStrategy::kBeam:
      if (request.beam_width < 1) return make_error(Errc::kInvalidArgument, "sim engine: beam width must be >= 1");
      d.beam_width = request.beam_width;
      return {};
    case DecodeStrategy::kSpeculative:
      if (!d.draft)
        return make_error(Errc::kInvalidArgument,
                          "sim engine: speculative decoding needs a draft model (open_sim_engine's draft, setting "
                          "draft_model)");
      if (request.draft_tokens < 1) return make_error(Errc::kInvalidArgument, "sim engine: draft tokens must be >= 1");
      if (!request.forced_accept_rate)
        return make_error(
            Errc::kInvalidArgument,
            "sim engine: speculative decoding needs an acceptance rate (BatchRequest::forced_accept_rate, "
            "setting accept_rate, --accept-rate): a simulation has no draft to verify");
      if (!(*request.forced_accept_rate >= 0.0 && *request.forced_accept_rate <= 1.0))
        return make_error(Errc::kInvalidArgument,
                          fmt::format("sim engine: acceptance rate {} is outside [0, 1]", *request.forced_accept_rate));
      d.spec_tokens = request.draft_tokens;
      d.spec_acceptance = *request.forced_accept_rate;
      return {};
  }
  return make_error(Errc::kInvalidArgument, "sim engine: unknown decoding strategy");
}

// One simulated outcome as a served request: tokens at the first-token time, then one
// per mean TPOT; a request the simulation rejected (NaN times) or left unfinished failed.
ServedRequest simulated_request(double start_s, const ServeRequest& r, const sim::RequestOutcome& o) {
  ServedRequest q;
  q.arrival_s = q.admitted_s = start_s + r.arrival_s;
  q.input_tokens = r.input_tokens;
  if (!std::isfinite(o.ttft_s) || !std::isfinite(o.e2e_s)) {
    q.ok = false;
    q.error = "rejected: longer than the KV capacity or the model's context, or unfinished (simulated)";
    q.first_token_s = q.end_s = q.arrival_s;
    return q;
  }
  q.first_token_s = q.arrival_s + o.ttft_s;
  const double tpot = std::isfinite(o.tpot_s) ? o.tpot_s : 0.0;
  for (std::uint64_t k = 0; k < r.output_tokens; ++k)
    q.token_s.push_back(q.first_token_s + tpot * static_cast<double>(k));
  q.output_tokens = r.output_tokens;
  q.end_s = std::max(q.token_s.back(), q.arrival_s + o.e2e_s);
  if (std::isfinite(o.energy_j)) q.energy_j = o.energy_j;
  return q;
}

Result<ModelInfo> model_of(const std::string& name_or_path) {
  auto a = find_builtin_arch(name_or_path);
  if (a) return info_from_arch(*a);
  if (name_or_path.size() > 5 && name_or_path.ends_with(".gguf")) return read_gguf_info(name_or_path);
  return make_error(Errc::kInvalidArgument, a.error().message + " (or give a .gguf path)");
}

}  // namespace

std::unique_ptr<Engine> make_sim_engine(sim::SimConfig config, EngineInfo info) {
  return std::make_unique<SimEngine>(std::move(config), std::move(info));
}

Result<std::unique_ptr<Engine>> open_sim_engine(const SimEngineConfig& config,
                                                const hardware::HardwareRegistry& registry, const std::string& draft) {
  auto hw = registry.find(config.hardware);
  if (!hw) return make_error(Errc::kInvalidArgument, "sim engine: hardware: " + hw.error().message);
  auto stack = sim::find_stack(config.stack);
  if (!stack) return make_error(Errc::kInvalidArgument, "sim engine: stack: " + stack.error().message);
  auto model = model_of(config.model);
  if (!model) return make_error(model.error().code, "sim engine: model: " + model.error().message);
  auto precision = sim::parse_weight_precision(config.precision.empty() ? "bf16" : config.precision);
  if (!precision) return make_error(Errc::kInvalidArgument, "sim engine: precision: " + precision.error().message);
  if (config.tp == 0) return make_error(Errc::kInvalidArgument, "sim engine: tp must be >= 1");
  sim::SimConfig c = sim::make_config(*hw, *stack, *model);
  c.precision = *precision;
  c.tp = config.tp;
  if (config.gpu_locked_clock_mhz && config.gpu_clock_ratio)
    return make_error(Errc::kInvalidArgument, "sim engine: give gpu_locked_clocks_mhz or gpu_clock_ratio, not both");
  c.clocks.power_limit_w = config.gpu_power_limit_w;
  c.clocks.clock_ratio = config.gpu_clock_ratio;
  if (config.gpu_locked_clock_mhz) {
    auto r = sim::clock_ratio_of(*config.gpu_locked_clock_mhz, *hw);
    if (!r) return make_error(r.error().code, "sim engine: gpu_locked_clocks_mhz: " + r.error().message);
    c.clocks.clock_ratio = *r;
  }
  if (auto st = sim::validate_clocks(c.clocks, *hw); !st)
    return make_error(st.error().code, "sim engine: " + st.error().message);
  if (auto st = sim::validate_config(c); !st) return st.error();
  if (!draft.empty()) {
    auto d = model_of(draft);
    if (!d) return make_error(d.error().code, "sim engine: draft model: " + d.error().message);
    if (d->arch.vocab != model->arch.vocab)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("sim engine: draft model {} (vocabulary {}) and model {} (vocabulary {}) must "
                                    "share a tokenizer",
                                    draft, d->arch.vocab, config.model, model->arch.vocab));
    c.decoding.draft = std::move(*d);
  }

  EngineInfo info;
  info.engine = "sim";
  info.version = JOULEPERF_VERSION;
  info.model = config.model;
  info.model_path = model->origin == "built-in" ? "" : model->origin;
  info.synthetic_model = model->synthetic;
  info.settings = {{"hardware", hw->name},
                   {"stack", stack->name},
                   {"precision", std::string(sim::weight_precision_name(*precision))},
                   {"tp", std::to_string(config.tp)},
                   {"simulated", "true"}};
  if (c.clocks.power_limit_w)
    info.settings.emplace_back("gpu_power_limit_w", fmt::format("{:g}", *c.clocks.power_limit_w));
  if (c.clocks.clock_ratio) {
    info.settings.emplace_back("gpu_clock_ratio", fmt::format("{:g}", *c.clocks.clock_ratio));
    if (hw->max_clock_mhz > 0)
      info.settings.emplace_back("gpu_locked_clocks_mhz",
                                 fmt::format("{:g}", *c.clocks.clock_ratio * hw->max_clock_mhz));
  }
  if (!draft.empty()) info.settings.emplace_back("draft_model", draft);
  return make_sim_engine(std::move(c), std::move(info));
}

}  // namespace jouleperf
