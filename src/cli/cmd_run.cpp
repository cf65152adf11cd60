// jouleperf run: one measured batch (B sequences, I prompt tokens, O generated tokens)
// on an engine, with energy split into prefill and decode.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/run_report.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "openai_flags.hpp"
#include "prompt_flags.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

struct RunArgs {
  SensorFlags flags;
  std::string engine = "llamacpp";
  std::string model;
  std::uint64_t input = 128;
  std::uint64_t output = 32;
  std::uint64_t batch = 1;
  std::uint64_t seed = 1;
  std::string strategy = "greedy";
  SamplingParams sampling;
  std::optional<std::uint64_t> sample_seed;
  std::string batching = "static";
  std::uint32_t beam_width = 4;
  std::string draft;
  std::uint32_t draft_tokens = 4;
  std::optional<double> accept_rate;
  int threads = 0;
  int threads_batch = 0;
  std::string flash_attn = "auto";
  std::string kv_type = "f16";
  std::uint32_t n_batch = 2048;
  std::uint32_t n_ubatch = 512;
  int gpu_layers = -1;
  bool no_mmap = false;
  std::uint64_t warmup = 1;
  double idle_s = 0.0;
  std::optional<double> idle_power_w;
  bool print_output = false;
  bool json = false;
  OpenAiFlags openai;  // --engine openai
  PromptFlags prompts;
  bool input_given = false;  // --input on the command line (else, with --prompt, I is its length)
};

// A real prompt's input length: --input when given, else (with --prompt) the prompt's own
// token count. Prints why and returns false when the engine cannot take the prompt flags.
bool prompt_input_tokens(const RunArgs& a, const Engine& engine, BatchRequest& req) {
  if (!a.prompts.prompt || a.input_given) return true;
  const auto natural = engine.natural_input_tokens();
  if (!natural) {
    std::cerr << "jouleperf run: the engine did not take the prompt\n";
    return false;
  }
  req.input_tokens = *natural;
  return true;
}

// The prompt ids and texts of each sequence, when a real prompt was fed with --print-output.
void add_prompt_json(const BatchResult& r, nlohmann::json& j) {
  if (!j.contains("requests")) return;
  for (std::size_t i = 0; i < r.sequences.size() && i < j["requests"].size(); ++i) {
    const auto& seq = r.sequences[i];
    if (seq.prompt_tokens.empty()) continue;
    auto& q = j["requests"][i];
    q["prompt_token_ids"] = seq.prompt_tokens;
    q["token_ids"] = seq.tokens;
    q["prompt_text"] = seq.prompt_text;
    q["text_with_prompt"] = seq.text_with_prompt;
  }
}

// The openai engine's own report: every request, failures and length mismatches included.
nlohmann::json openai_json(const OpenAiEngine& e) {
  nlohmann::json failures = nlohmann::json::array();
  nlohmann::json mismatches = nlohmann::json::array();
  nlohmann::json reqs = nlohmann::json::array();
  std::uint64_t ok = 0;
  for (const auto& r : e.last_results()) {
    if (r.ok) ++ok;
    if (!r.ok)
      failures.push_back({{"request", r.tag},
                          {"error", r.error},
                          {"http_status", r.http_status},
                          {"output_tokens_received", r.output_tokens}});
    if (!r.mismatch.empty()) mismatches.push_back({{"request", r.tag}, {"mismatch", r.mismatch}});
    reqs.push_back({{"request", r.tag},
                    {"ok", r.ok},
                    {"send_s", r.send_s},
                    {"end_s", r.end_s},
                    {"output_tokens", r.output_tokens},
                    {"usage_prompt_tokens",
                     r.usage_prompt_tokens ? nlohmann::json(*r.usage_prompt_tokens) : nlohmann::json(nullptr)},
                    {"usage_completion_tokens",
                     r.usage_completion_tokens ? nlohmann::json(*r.usage_completion_tokens) : nlohmann::json(nullptr)},
                    {"ttft_s", r.ttft_s()},
                    {"tpot_s", r.tpot_s()},
                    {"e2e_s", r.e2e_s()},
                    {"itl_s", r.itl_s()},
                    {"finish_reason", r.finish_reason}});
  }
  return {{"requests_total", e.last_results().size()},
          {"requests_ok", ok},
          {"requests_failed", e.last_results().size() - ok},
          {"failures", std::move(failures)},
          {"mismatches", std::move(mismatches)},
          {"requests", std::move(reqs)}};
}

// A batch with failed requests (openai): no per-request energy is reported, since the
// window holds the failures' stalls too. With --json, a document naming every request and
// why it failed; otherwise the reasons on stderr. Always kExitFailure.
int report_failed_batch(const RunArgs& a, const std::string& phase, const Error& e, const OpenAiEngine& engine,
                        const Measurement* m) {
  std::cerr << "jouleperf run: " << phase << ": " << e.to_string() << "\n";
  if (!a.json) {
    for (const auto& r : engine.last_results())
      if (!r.ok) std::cerr << "  FAILED request " << r.tag << ": " << r.error << "\n";
    return kExitFailure;
  }
  nlohmann::json j = {
      {"ok", false},
      {"phase", phase},
      {"error", e.message},
      {"engine", engine.info().engine},
      {"model", engine.info().model},
      {"batch", a.batch},
      {"input_tokens", a.input},
      {"output_tokens", a.output},
      {"window_energy_j", m != nullptr ? nlohmann::json(m->total.energy_j) : nlohmann::json(nullptr)},
      {"energy_source", m != nullptr ? nlohmann::json(m->total.energy_source) : nlohmann::json(nullptr)},
      {"note",
       "a request failed: the batch is not a measurement; window_energy_j is the whole metered "
       "window (failures' stalls included), charged to no request"},
      {"openai", openai_json(engine)}};
  std::cout << j.dump(2) << "\n";
  return kExitFailure;
}

void print_summary(const RunSummary& s, const BatchRequest& req, const BatchResult& r, const EngineInfo& e,
                   const Measurement& m) {
  auto& o = std::cout;
  o << fmt::format("\n {} on {}{}: batch {}, {} prompt + {} generated tokens per sequence, {}\n\n", e.engine, e.model,
                   e.synthetic_model ? " [SYNTHETIC model]" : "", s.batch, req.input_tokens, req.output_tokens,
                   strategy_name(req.strategy));
  o << fmt::format("  {:<8} {:>10} {:>14} {:>12}\n", "phase", "time_s", "tokens/s", "energy_j");
  auto energy = [](const std::optional<double>& v) { return v ? fmt::format("{:.3f}", *v) : std::string("-"); };
  o << fmt::format("  {:<8} {:>10.4f} {:>14.1f} {:>12}\n", "prefill", s.prefill_s, s.prefill_tokens_per_s,
                   energy(s.prefill_energy_j));
  o << fmt::format("  {:<8} {:>10.4f} {:>14} {:>12}\n", "decode", s.decode_s,
                   s.decode_tokens_per_s ? fmt::format("{:.1f}", *s.decode_tokens_per_s) : std::string("-"),
                   energy(s.decode_energy_j));
  o << fmt::format("  {:<8} {:>10.4f} {:>14} {:>12.3f}  [{}{}]\n", "total", m.total.duration_s, "", s.energy_j,
                   s.energy_source, s.estimated ? ", ESTIMATED" : ", measured");
  if (s.above_idle_j) o << fmt::format("  above idle: {:.3f} J\n", *s.above_idle_j);
  if (s.below_resolution) o << "  (shorter than the sensor's update interval: not a precise figure)\n";
  o << "\n  request  ttft_s     e2e_s      output_tokens\n";
  for (std::size_t i = 0; i < s.requests.size(); ++i) {
    const auto& q = s.requests[i];
    o << fmt::format("  {:<8} {:<10.4f} {:<10.4f} {}\n", i, q.ttft_s, q.e2e_s, q.output_tokens);
    if (req.keep_text) {
      const std::string& full = r.sequences[i].text_with_prompt;
      o << "    " << nlohmann::json(full.empty() ? q.text : full).dump() << "\n";
    }
  }
  for (const auto& [k, v] : e.settings)
    if (k == "prompt_source" && v != "random-ids") o << "\n  prompts: " << (v == "text" ? "--prompt" : v) << "\n";
  if (req.strategy == DecodeStrategy::kBeam)
    o << fmt::format("\n  beam width {} (the best beam's tokens)\n", req.beam_width);
  if (req.strategy == DecodeStrategy::kSpeculative) {
    o << fmt::format("\n  speculative: {} draft tokens per step, {} target + {} draft decode forwards\n",
                     req.draft_tokens, r.decode_forwards, r.draft_forwards);
    o << fmt::format("  draft acceptance: {}{}\n",
                     r.draft_acceptance ? fmt::format("{:.3f}", *r.draft_acceptance) : std::string("- (none judged)"),
                     req.forced_accept_rate ? fmt::format(" (FORCED at {}: the cost of that rate, not a real draft)",
                                                          *req.forced_accept_rate)
                                            : std::string(" (greedy verification)"));
  }
  if (s.estimated)
    o << "\n  Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.\n";
  o << "\n";
}

int run_run(const RunArgs& a) {
  if (a.engine != "llamacpp" && a.engine != "openai") {
    std::cerr << "jouleperf run: unknown engine '" << a.engine << "' (built: llamacpp, openai)\n";
    return kExitUsage;
  }
  if (a.engine == "llamacpp" && a.model.empty()) {
    std::cerr << "jouleperf run: --model is required with --engine llamacpp\n";
    return kExitUsage;
  }
  if (a.engine == "openai" && a.openai.url.empty()) {
    std::cerr << "jouleperf run: --url is required with --engine openai\n";
    return kExitUsage;
  }
  if (const auto why = prompt_flags_refusal(a.prompts, a.engine); !why.empty()) {
    std::cerr << "jouleperf run: " << why << "\n";
    return kExitUsage;
  }
  auto prompt_texts = load_prompt_flags(a.prompts);
  if (!prompt_texts) {
    std::cerr << "jouleperf run: " << prompt_texts.error().to_string() << "\n";
    return kExitUsage;
  }
  BatchRequest req;
  req.batch = a.batch;
  req.input_tokens = a.input;
  req.output_tokens = a.output;
  req.seed = a.seed;
  req.keep_text = a.print_output;
  auto strategy = parse_strategy(a.strategy);
  auto batching = parse_batching(a.batching);
  auto flash = parse_flash_attention(a.flash_attn);
  for (const Error* e : {strategy ? nullptr : &strategy.error(), batching ? nullptr : &batching.error(),
                         flash ? nullptr : &flash.error()}) {
    if (e != nullptr) {
      std::cerr << "jouleperf run: " << e->message << "\n";
      return kExitUsage;
    }
  }
  req.strategy = *strategy;
  req.sampling = a.sampling;
  req.sampling.seed = a.sample_seed.value_or(a.seed);
  req.batching = *batching;
  req.beam_width = a.beam_width;
  req.draft_tokens = a.draft_tokens;
  req.forced_accept_rate = a.accept_rate;
  if (req.strategy == DecodeStrategy::kSpeculative && (a.engine != "llamacpp" || a.draft.empty())) {
    std::cerr << "jouleperf run: --strategy speculative needs --engine llamacpp and --draft FILE\n";
    return kExitUsage;
  }
  if (!a.draft.empty() && req.strategy != DecodeStrategy::kSpeculative) {
    std::cerr << "jouleperf run: --draft is used with --strategy speculative only\n";
    return kExitUsage;
  }

  std::unique_ptr<Engine> engine_ptr;
  OpenAiEngine* openai = nullptr;
  if (a.engine == "openai") {
    auto oc = openai_config(a.openai);
    if (!oc) {
      std::cerr << "jouleperf run: " << oc.error().to_string() << "\n";
      return kExitUsage;
    }
    oc->model = a.model;
    auto oe = OpenAiEngine::open(std::move(*oc));
    if (!oe) {
      std::cerr << "jouleperf run: " << oe.error().to_string() << "\n";
      return kExitUsage;
    }
    openai = oe->get();
    engine_ptr = std::move(*oe);
  } else {
    LlamaEngineConfig cfg;
    cfg.model_path = a.model;
    cfg.threads = a.threads;
    cfg.threads_batch = a.threads_batch;
    cfg.flash_attention = *flash;
    cfg.kv_type = a.kv_type;
    cfg.n_batch = a.n_batch;
    cfg.n_ubatch = a.n_ubatch;
    cfg.gpu_layers = a.gpu_layers;
    cfg.mmap = !a.no_mmap;
    cfg.draft_model_path = a.draft;
    cfg.prompts = std::move(*prompt_texts);
    auto opened = open_llamacpp_engine(cfg);
    if (!opened) {
      std::cerr << "jouleperf run: " << opened.error().to_string() << "\n";
      return opened.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
    }
    engine_ptr = std::move(*opened);
  }
  Engine* engine = engine_ptr.get();
  if (!prompt_input_tokens(a, *engine, req)) return kExitFailure;
  SteadyClock clock;
  for (std::uint64_t i = 0; i < a.warmup; ++i) {
    if (auto w = engine->run_batch(req, clock, nullptr); !w) {
      if (openai != nullptr && !openai->last_failures().empty())
        return report_failed_batch(a, fmt::format("warm-up {}", i + 1), w.error(), *openai, nullptr);
      std::cerr << "jouleperf run: " << w.error().to_string() << "\n";
      return w.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
    }
  }

  auto sampler_ptr = start_sampler(a.flags, clock, "run");
  if (!sampler_ptr) return kExitFailure;
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  if (a.idle_power_w) {
    meter.set_idle(given_idle(Watts(*a.idle_power_w)));
  } else if (a.idle_s > 0) {
    auto idle = measure_idle(sampler, Seconds(a.idle_s));
    if (!idle) {
      std::cerr << "jouleperf run: idle baseline: " << idle.error().to_string() << "\n";
      return kExitFailure;
    }
    meter.set_idle(*idle);
  }
  auto result = engine->run_batch(req, clock, &meter);
  auto m = meter.stop();
  sampler.stop();
  if (!result) {
    if (openai != nullptr && !openai->last_failures().empty())
      return report_failed_batch(a, "measured batch", result.error(), *openai, m ? &*m : nullptr);
    std::cerr << "jouleperf run: " << result.error().to_string() << "\n";
    return result.error().code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (!m) {
    std::cerr << "jouleperf run: " << m.error().to_string() << "\n";
    return kExitFailure;
  }
  const RunSummary summary = summarize_run(*result, *m);
  if (a.json) {
    nlohmann::json j = to_json(summary, req, engine->info(), *m);
    j["ok"] = true;
    j["warmup_batches"] = a.warmup;
    const bool beam = req.strategy == DecodeStrategy::kBeam;
    const bool spec = req.strategy == DecodeStrategy::kSpeculative;
    j["beam_width"] = beam ? nlohmann::json(req.beam_width) : nlohmann::json(nullptr);
    j["draft_tokens"] = spec ? nlohmann::json(req.draft_tokens) : nlohmann::json(nullptr);
    j["draft_acceptance"] =
        result->draft_acceptance ? nlohmann::json(*result->draft_acceptance) : nlohmann::json(nullptr);
    j["forced_accept_rate"] =
        spec && req.forced_accept_rate ? nlohmann::json(*req.forced_accept_rate) : nlohmann::json(nullptr);
    j["decode_forwards"] = result->decode_forwards;
    j["draft_forwards"] = result->draft_forwards;
    add_prompt_json(*result, j);
    nlohmann::json cond = nlohmann::json::object();
    for (const auto& [k, v] : sampler.conditions()) cond[k] = v;
    j["sensor_conditions"] = cond;
    if (openai != nullptr) j["openai"] = openai_json(*openai);
    std::cout << j.dump(2) << "\n";
  } else {
    print_summary(summary, req, *result, engine->info(), *m);
    if (openai != nullptr) {
      const auto oj = openai_json(*openai);
      std::cout << fmt::format("  requests: {} ok, {} failed\n", oj["requests_ok"].get<std::uint64_t>(),
                               oj["requests_failed"].get<std::uint64_t>());
      for (const auto& f : oj["failures"])
        std::cout << "  FAILED request " << f["request"] << ": " << f["error"].get<std::string>() << "\n";
      for (const auto& f : oj["mismatches"])
        std::cout << "  LENGTH MISMATCH request " << f["request"] << ": " << f["mismatch"].get<std::string>() << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd =
      app.add_subcommand("run", "One measured batch on an engine: B sequences of I prompt and O generated tokens");
  add_sensor_flags(cmd, a->flags);
  cmd->add_option("--engine", a->engine, "Engine: llamacpp (in-process), openai (an OpenAI-compatible server)")
      ->envname("JOULEPERF_ENGINE")
      ->capture_default_str();
  cmd->add_option("--model,-m", a->model,
                  "llamacpp: GGUF model file (real or from `jouleperf model synth`); openai: the served model name")
      ->envname("JOULEPERF_MODEL");
  add_openai_flags(cmd, a->openai);
  auto* input = cmd->add_option("--input,-I", a->input, "Prompt tokens per sequence")
                    ->check(CLI::PositiveNumber)
                    ->capture_default_str();
  add_prompt_flags(cmd, a->prompts);
  cmd->add_option("--output,-O", a->output, "Generated tokens per sequence (end-of-sequence ignored)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch,-B", a->batch, "Sequences in the batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the prompt tokens")->envname("JOULEPERF_SEED")->capture_default_str();
  cmd->add_option("--strategy", a->strategy, "Decoding strategy: greedy, sample, beam, speculative")
      ->capture_default_str();
  cmd->add_option("--beam-width", a->beam_width, "beam: beams per sequence")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--draft", a->draft, "speculative: draft GGUF model (same vocabulary as --model)");
  cmd->add_option("--draft-tokens", a->draft_tokens, "speculative: tokens the draft proposes per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--accept-rate", a->accept_rate,
                  "speculative: accept each draft token with this probability instead of verifying it "
                  "(measures the cost of a given acceptance rate)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--temperature", a->sampling.temperature, "sample: temperature (<= 0: most likely token)")
      ->capture_default_str();
  cmd->add_option("--top-k", a->sampling.top_k, "sample: keep the k most likely tokens (<= 0: all)")
      ->capture_default_str();
  cmd->add_option("--top-p", a->sampling.top_p, "sample: nucleus probability (1: all)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--sample-seed", a->sample_seed, "sample: seed of sequence 0's draws (default: --seed)");
  cmd->add_option("--batching", a->batching,
                  "Batching: static, continuous (one batch of equal sequences runs the same either way; see replay)")
      ->capture_default_str();
  cmd->add_option("--threads,-t", a->threads, "Decode threads (0 = every hardware thread)")
      ->envname("JOULEPERF_THREADS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--threads-batch", a->threads_batch, "Prefill threads (0 = --threads)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--flash-attn", a->flash_attn, "Flash attention: auto, on, off")->capture_default_str();
  cmd->add_option("--kv-type", a->kv_type, "KV-cache type: f32, f16, bf16, q8_0, q4_0")->capture_default_str();
  cmd->add_option("--n-batch", a->n_batch, "Most tokens per forward call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--n-ubatch", a->n_ubatch, "Tokens per physical micro-batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--gpu-layers", a->gpu_layers, "Layers offloaded to a GPU backend when built (-1 = all)")
      ->capture_default_str();
  cmd->add_flag("--no-mmap", a->no_mmap, "Read the model into memory instead of mapping it");
  cmd->add_option("--warmup", a->warmup, "Unmeasured batches run first")
      ->envname("JOULEPERF_WARMUP")
      ->capture_default_str();
  cmd->add_option("--idle", a->idle_s, "Measure idle power for S seconds first and report energy above idle")
      ->envname("JOULEPERF_IDLE")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", a->idle_power_w, "Idle power to subtract, W (instead of measuring it)")
      ->envname("JOULEPERF_IDLE_POWER")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--print-output", a->print_output,
                "Print each sequence's generated text (with --prompt/--prompts: the prompt, then its continuation)");
  cmd->add_flag("--json", a->json, "Print the result as JSON");
  cmd->callback([a, input, &ctx] {
    a->input_given = input->count() > 0;
    ctx.exit_code = run_run(*a);
  });
}

}  // namespace jouleperf::cli
