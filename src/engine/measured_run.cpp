#include "jouleperf/engine/measured_run.hpp"

#include <fmt/format.h>

#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/sensor/meter.hpp"

namespace jouleperf {

namespace {

Error usage(std::string message) { return make_error(Errc::kInvalidArgument, std::move(message)); }

Status check_options(const RunOptions& o) {
  if (o.engine != "llamacpp" && o.engine != "openai")
    return usage(fmt::format("unknown engine '{}' (built: llamacpp, openai)", o.engine));
  if (o.engine == "llamacpp" && o.model.empty()) return usage("--model is required with --engine llamacpp");
  if (o.input == 0 || o.output == 0 || o.batch == 0) return usage("--input, --output-tokens and --batch must be >= 1");
  if (o.engine == "openai" && (!o.openai || o.openai->url.empty()))
    return usage("--url is required with --engine openai");
  return {};
}

// The batch the options ask for (the strategy, batching and decoding settings checked).
Result<BatchRequest> batch_request(const RunOptions& o) {
  BatchRequest req;
  req.batch = o.batch;
  req.input_tokens = o.input;
  req.output_tokens = o.output;
  req.seed = o.seed;
  req.keep_text = o.print_output;
  auto strategy = parse_strategy(o.strategy);
  if (!strategy) return usage(strategy.error().message);
  auto batching = parse_batching(o.batching);
  if (!batching) return usage(batching.error().message);
  if (auto flash = parse_flash_attention(o.llama.flash_attn); !flash) return usage(flash.error().message);
  req.strategy = *strategy;
  req.sampling = o.sampling;
  req.sampling.seed = o.sample_seed.value_or(o.seed);
  req.batching = *batching;
  req.beam_width = o.beam_width;
  req.draft_tokens = o.draft_tokens;
  req.forced_accept_rate = o.accept_rate;
  if (req.strategy == DecodeStrategy::kSpeculative && (o.engine != "llamacpp" || o.llama.draft.empty()))
    return usage("--strategy speculative needs --engine llamacpp and --draft FILE");
  if (!o.llama.draft.empty() && req.strategy != DecodeStrategy::kSpeculative)
    return usage("--draft is used with --strategy speculative only");
  return req;
}

struct Opened {
  std::unique_ptr<Engine> engine;
  OpenAiEngine* openai = nullptr;
};

Result<Opened> open_engine(const RunOptions& o) {
  Opened out;
  if (o.engine == "openai") {
    OpenAiConfig oc = *o.openai;
    oc.model = o.model;
    auto oe = OpenAiEngine::open(std::move(oc));
    if (!oe) return usage(oe.error().message);
    out.openai = oe->get();
    out.engine = std::move(*oe);
    return out;
  }
  auto cfg = llama_engine_config(o.model, o.llama, o.prompts);
  if (!cfg) return cfg.error();
  auto opened = open_llamacpp_engine(*cfg);
  if (!opened) return opened.error();
  out.engine = std::move(*opened);
  return out;
}

// The idle baseline asked for, given to `meter`.
Status set_idle(const RunOptions& o, Sampler& sampler, Meter& meter) {
  if (o.idle_power_w) {
    meter.set_idle(given_idle(Watts(*o.idle_power_w)));
  } else if (o.idle_s > 0) {
    auto idle = measure_idle(sampler, Seconds(o.idle_s));
    if (!idle) return make_error(idle.error().code, "idle baseline: " + idle.error().message);
    meter.set_idle(*idle);
  }
  return {};
}

// A failed openai batch as an outcome (its requests reported); other errors as errors.
Result<RunOutcome> failed(RunOutcome out, const Opened& e, const Error& error, std::string phase) {
  if (e.openai == nullptr || e.openai->last_failures().empty()) return error;
  out.failure = error;
  out.failed_phase = std::move(phase);
  out.openai_results = e.openai->last_results();
  return out;
}

}  // namespace

Result<RunOutcome> run_measured_batch(const RunOptions& o, const SamplerStarter& start_sampler) {
  if (auto st = check_options(o); !st) return st.error();
  auto req = batch_request(o);
  if (!req) return req.error();
  auto e = open_engine(o);
  if (!e) return e.error();
  Engine& engine = *e->engine;
  RunOutcome out;
  out.engine = engine.info();
  out.warmup = o.warmup;
  out.openai = e->openai != nullptr;
  if (o.prompt_text_given && !o.input_given) {
    const auto natural = engine.natural_input_tokens();
    if (!natural) return make_error(Errc::kInternal, "the engine did not take the prompt");
    req->input_tokens = *natural;
  }
  out.request = *req;
  SteadyClock clock;
  for (std::uint64_t i = 0; i < o.warmup; ++i)
    if (auto w = engine.run_batch(*req, clock, nullptr); !w)
      return failed(std::move(out), *e, w.error(), fmt::format("warm-up {}", i + 1));
  auto sampler = start_sampler(clock);
  if (!sampler) return sampler.error();
  Meter meter(**sampler);
  if (auto st = set_idle(o, **sampler, meter); !st) return st.error();
  auto result = engine.run_batch(*req, clock, &meter);
  auto m = meter.stop();
  (*sampler)->stop();
  if (m) out.measurement = *m;
  if (!result) return failed(std::move(out), *e, result.error(), "measured batch");
  if (!m) return m.error();
  out.result = std::move(*result);
  out.summary = summarize_run(*out.result, *m);
  out.sensor_conditions = (*sampler)->conditions();
  if (e->openai != nullptr) out.openai_results = e->openai->last_results();
  return out;
}

}  // namespace jouleperf
