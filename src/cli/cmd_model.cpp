// jouleperf model info|synth: what a model costs (parameters, bytes, KV cache, FLOPs)
// and synthetic Llama-architecture GGUF models with random weights.
#include <memory>
#include <string>

#include "commands.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/documents.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

struct InfoFlags {
  ModelInfoOptions options;
  OutputFlags out;
};

struct SynthFlags {
  ModelSynthOptions options;
  std::string path;  // --out (or the old -o FILE)
  OutputFlags out;
};

int run_info(InfoFlags& f) {
  constexpr const char* kCommand = "model info";
  // The old `--output N` was the generated tokens (now -O/--output-tokens).
  auto format = output_format(f.out, kCommand, legacy_output_tokens(f.options.output_tokens));
  if (!format) return fail(kCommand, format.error());
  auto doc = model_info_document(f.options);
  if (!doc) return fail(kCommand, doc.error());
  return emit(f.out, *format, *doc, kCommand);
}

int run_synth(SynthFlags& f) {
  constexpr const char* kCommand = "model synth";
  // The old `-o FILE` was the output file (now --out; -o names the output format).
  auto format = output_format(f.out, kCommand, [&f](const std::string& v) {
    if (!f.path.empty() || v.empty()) return false;
    f.path = v;
    return true;
  });
  if (!format) return fail(kCommand, format.error());
  if (f.path.empty()) return fail(kCommand, make_error(Errc::kInvalidArgument, "--out FILE (.gguf) is required"));
  auto config = synth_config(f.options);
  if (!config) return fail(kCommand, config.error());
  auto info = write_synthetic_gguf(*config, f.path);
  if (!info) return fail(kCommand, info.error());
  return emit(f.out, *format, synth_document(*info, f.path), kCommand);
}

void add_info(CLI::App* cmd, Context& ctx) {
  auto f = std::make_shared<InfoFlags>();
  auto* ic = cmd->add_subcommand("info", "Parameters, weight bytes, KV-cache bytes per token and FLOPs of a model");
  ic->add_option("file", f->options.file, "A GGUF model file");
  std::string names;
  for (const auto& a : builtin_archs()) names += (names.empty() ? "" : ", ") + a.name;
  ic->add_option("--arch", f->options.arch, "A built-in architecture: " + names);
  ic->add_option("--input,-I", f->options.input_tokens, "Prompt tokens for the FLOPs figures")->capture_default_str();
  ic->add_option("-O,--output-tokens", f->options.output_tokens,
                 "Generated tokens for the FLOPs figures (the old --output N still works)")
      ->capture_default_str();
  ic->add_option("--logits", f->options.logits,
                 "Prefill computes logits for the 'last' prompt token (llama.cpp, vLLM) or 'all' (eager stacks)")
      ->envname("JOULEPERF_LOGITS")
      ->capture_default_str();
  add_output_flags(ic, f->out);
  ic->callback([f, &ctx] { ctx.exit_code = run_info(*f); });
}

void add_synth(CLI::App* cmd, Context& ctx) {
  auto f = std::make_shared<SynthFlags>();
  auto& o = f->options;
  auto* sc = cmd->add_subcommand("synth", "Write a Llama-architecture GGUF with random weights");
  sc->add_option("--preset", o.preset, "tiny (~25 M parameters), small (~60 M) or medium (~270 M)");
  sc->add_option("--dim", o.dim, "Hidden size (overrides the preset)");
  sc->add_option("--layers", o.layers, "Layers");
  sc->add_option("--heads", o.heads, "Attention heads");
  sc->add_option("--kv-heads", o.kv_heads, "Key/value heads (default: the preset's, else --heads)");
  sc->add_option("--ffn", o.ffn, "FFN intermediate size");
  sc->add_option("--context", o.context, "llama.context_length written to the file")->capture_default_str();
  sc->add_option("--vocab-from", o.vocab_from,
                 "GGUF whose tokenizer is copied (default: llama.cpp's models/ggml-vocab-llama-spm.gguf)")
      ->envname("JOULEPERF_VOCAB");
  sc->add_option("--type", o.type, "Weight type: f32, f16, q8_0, q4_0")->capture_default_str();
  sc->add_option("--seed", o.seed, "Random seed of the weights")->capture_default_str();
  sc->add_option("--name", o.name, "general.name (default: synthetic-<preset>)");
  sc->add_option("--out", f->path, "Output file (.gguf); required (the old -o FILE still works)");
  add_output_flags(sc, f->out);
  sc->callback([f, &ctx] { ctx.exit_code = run_synth(*f); });
}

}  // namespace

void add_model_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("model", "Model facts (parameters, bytes, KV cache, FLOPs) and synthetic models");
  cmd->require_subcommand(1);
  add_info(cmd, ctx);
  add_synth(cmd, ctx);
}

}  // namespace jouleperf::cli
