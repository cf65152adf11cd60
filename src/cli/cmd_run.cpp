// jouleperf run: one measured batch (B sequences, I prompt tokens, O generated tokens)
// on an engine, with energy split into prefill and decode (engine/measured_run.hpp).
#include <iostream>

#include "commands.hpp"
#include "jouleperf/engine/measured_run.hpp"
#include "llama_flags.hpp"
#include "openai_flags.hpp"
#include "output_flags.hpp"
#include "prompt_flags.hpp"
#include "sensor_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "run";

struct RunFlags {
  SensorFlags sensors;
  RunOptions options;
  OpenAiFlags openai;
  PromptFlags prompts;
  OutputFlags out;
};

// The sampler starter of every measuring command: start_sampler says why it failed.
SamplerStarter sampler_starter(const SensorFlags& flags, std::string_view command) {
  return [&flags, command](const Clock& clock) -> Result<std::unique_ptr<Sampler>> {
    auto sampler = start_sampler(flags, clock, command);
    if (!sampler) return make_error(Errc::kIo, "");
    return sampler;
  };
}

int fail_quietly_if_said(const Error& e) { return e.message.empty() ? kExitFailure : fail(kCommand, e); }

// The flags that are not plain settings, resolved into the options (any error is a usage error).
Status resolve(RunFlags& f) {
  RunOptions& o = f.options;
  if (auto why = prompt_flags_refusal(f.prompts, o.engine); !why.empty())
    return make_error(Errc::kInvalidArgument, why);
  auto texts = load_prompt_flags(f.prompts);
  if (!texts) return texts.error();
  o.prompts = std::move(*texts);
  o.prompt_text_given = f.prompts.prompt.has_value();
  if (o.engine == "openai") {
    auto oc = openai_config(f.openai);
    if (!oc) return oc.error();
    o.openai = std::move(*oc);
  }
  return {};
}

int run(RunFlags& f) {
  // The old --output N (generated tokens) sets the count as -O N does.
  auto format = output_format(f.out, kCommand, legacy_output_tokens(f.options.output));
  if (!format) return fail(kCommand, format.error());
  if (auto st = resolve(f); !st) {
    fail(kCommand, st.error());
    return kExitUsage;
  }
  auto outcome = run_measured_batch(f.options, sampler_starter(f.sensors, kCommand));
  if (!outcome) return fail_quietly_if_said(outcome.error());
  const table::Document doc = run_document(*outcome);
  if (!outcome->failure) return emit(f.out, *format, doc, kCommand);
  std::cerr << "jouleperf run: " << outcome->failed_phase << ": " << outcome->failure->to_string() << "\n";
  if (*format == table::Format::kJson) {
    emit(f.out, *format, doc, kCommand);
    return kExitFailure;
  }
  for (const auto& line : failed_request_lines(*outcome)) std::cerr << "  " << line << "\n";
  return kExitFailure;
}

void add_batch_flags(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("--input,-I", o.input, "Prompt tokens per sequence")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("-O,--output-tokens", o.output, "Generated tokens per sequence (end-of-sequence ignored)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch,-B", o.batch, "Sequences in the batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the prompt tokens")->envname("JOULEPERF_SEED")->capture_default_str();
  cmd->add_option("--batching", o.batching,
                  "Batching: static, continuous (one batch of equal sequences runs the same either way; see replay)")
      ->capture_default_str();
  cmd->add_option("--warmup", o.warmup, "Unmeasured batches run first")
      ->envname("JOULEPERF_WARMUP")
      ->capture_default_str();
  cmd->add_option("--idle", o.idle_s, "Measure idle power for S seconds first and report energy above idle")
      ->envname("JOULEPERF_IDLE")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", o.idle_power_w, "Idle power to subtract, W (instead of measuring it)")
      ->envname("JOULEPERF_IDLE_POWER")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--print-output", o.print_output,
                "Print each sequence's generated text (with --prompt/--prompts: the prompt, then its continuation)");
}

void add_decoding_flags(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("--strategy", o.strategy, "Decoding strategy: greedy, sample, beam, speculative")
      ->capture_default_str();
  cmd->add_option("--beam-width", o.beam_width, "beam: beams per sequence")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--draft-tokens", o.draft_tokens, "speculative: tokens the draft proposes per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--accept-rate", o.accept_rate,
                  "speculative: accept each draft token with this probability instead of verifying it "
                  "(measures the cost of a given acceptance rate)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--temperature", o.sampling.temperature, "sample: temperature (<= 0: most likely token)")
      ->capture_default_str();
  cmd->add_option("--top-k", o.sampling.top_k, "sample: keep the k most likely tokens (<= 0: all)")
      ->capture_default_str();
  cmd->add_option("--top-p", o.sampling.top_p, "sample: nucleus probability (1: all)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--sample-seed", o.sample_seed, "sample: seed of sequence 0's draws (default: --seed)");
}

}  // namespace

void add_run_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd =
      app.add_subcommand("run", "One measured batch on an engine: B sequences of I prompt and O generated tokens");
  add_sensor_flags(cmd, f->sensors);
  cmd->add_option("--engine", f->options.engine, "Engine: llamacpp (in-process), openai (an OpenAI-compatible server)")
      ->envname("JOULEPERF_ENGINE")
      ->capture_default_str();
  cmd->add_option("--model,-m", f->options.model,
                  "llamacpp: GGUF model file (real or from `jouleperf model synth`); openai: the served model name")
      ->envname("JOULEPERF_MODEL");
  add_openai_flags(cmd, f->openai);
  add_prompt_flags(cmd, f->prompts);
  add_batch_flags(cmd, f->options);
  add_decoding_flags(cmd, f->options);
  add_llama_flags(cmd, f->options.llama);
  add_output_flags(cmd, f->out);
  auto* input = cmd->get_option("--input");
  cmd->callback([f, input, &ctx] {
    f->options.input_given = input->count() > 0;
    ctx.exit_code = run(*f);
  });
}

}  // namespace jouleperf::cli
