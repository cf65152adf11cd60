// jouleperf model info|synth: what a model costs (parameters, bytes, KV cache, FLOPs)
// and synthetic Llama-architecture GGUF models with random weights.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "jouleperf/model/model_json.hpp"
#include "jouleperf/model/synth.hpp"

namespace jouleperf::cli {
namespace {

struct InfoArgs {
  std::string file;
  std::string arch;
  std::uint64_t input = 512;
  std::uint64_t output = 128;
  std::string logits = "last";
  bool json = false;
};

struct SynthArgs {
  std::string preset;
  std::uint64_t dim = 0, layers = 0, heads = 0, kv_heads = 0, ffn = 0;
  std::uint64_t context = 4096;
  std::string vocab_from;
  std::string type = "f16";
  std::uint64_t seed = 1;
  std::string name;
  std::string out;
  bool json = false;
};

std::string grouped(std::uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void print_info(const ModelInfo& m, const RequestFlops* f, LogitsMode logits) {
  const ModelArch& a = m.arch;
  auto& o = std::cout;
  o << fmt::format("{:<22} {}{}\n", "model", a.name, m.synthetic ? "  [SYNTHETIC: random weights]" : "");
  o << fmt::format("{:<22} {}\n", "source", m.origin == "built-in" ? "built-in, from " + a.source : m.origin);
  std::string shape = fmt::format("{}: {} layers, dim {}, {} heads ({} KV, head dim {}), ffn {}", a.family, a.layers,
                                  a.dim, a.heads, a.kv_heads, a.head_dim, a.ffn);
  if (a.experts > 0) shape += fmt::format(" x {} experts ({} per token)", a.experts, a.experts_used);
  shape += fmt::format(", vocab {}{}", a.vocab, a.tied_embeddings ? " (tied)" : "");
  o << fmt::format("{:<22} {}\n", "architecture", shape);
  o << fmt::format("{:<22} {:>18}\n", "params_total", grouped(m.params_total));
  o << fmt::format("{:<22} {:>18}\n", "params_non_embedding", grouped(m.params_non_embedding));
  if (m.params_active != m.params_non_embedding)
    o << fmt::format("{:<22} {:>18}  (non-embedding, per token)\n", "params_active", grouped(m.params_active));
  o << fmt::format("{:<22} {:>18}  ({})\n", "weight_bytes", grouped(m.weight_bytes), m.weight_type);
  o << fmt::format("{:<22} {:>18}  (f16 K and V, all layers)\n", "kv_bytes_per_token", grouped(m.kv_bytes_per_token));
  if (f != nullptr) {
    o << fmt::format("\nFLOPs for one request of {} prompt and {} generated tokens (logits: {}):\n", f->input_tokens,
                     f->output_tokens, logits_mode_name(logits));
    o << fmt::format("  {:<8} {:>12} {:>12} {:>12} {:>12}\n", "phase", "total", "matmul", "attention", "logits");
    auto row = [&](const char* name, const PhaseFlops& p) {
      o << fmt::format("  {:<8} {:>12.4e} {:>12.4e} {:>12.4e} {:>12.4e}\n", name, p.total(), p.matmul, p.attention,
                       p.logits);
    };
    row("prefill", f->prefill);
    row("decode", f->decode);
    o << fmt::format("  {:<8} {:>12.4e}   (decode = the {} forwards after the first token)\n", "total", f->total(),
                     f->decode_forwards);
  }
}

int run_info(const InfoArgs& a) {
  if (a.file.empty() == a.arch.empty()) {
    std::cerr << "jouleperf model info: give exactly one of FILE or --arch NAME\n";
    return kExitUsage;
  }
  auto logits = parse_logits_mode(a.logits);
  if (!logits) {
    std::cerr << "jouleperf model info: " << logits.error().message << "\n";
    return kExitUsage;
  }
  Result<ModelInfo> info = make_error(Errc::kInternal, "unset");
  if (!a.arch.empty()) {
    auto arch = find_builtin_arch(a.arch);
    if (!arch) {
      std::cerr << "jouleperf model info: " << arch.error().message << "\n";
      return kExitUsage;
    }
    info = info_from_arch(*arch);
  } else {
    info = read_gguf_info(a.file);
  }
  if (!info) {
    std::cerr << "jouleperf model info: " << info.error().to_string() << "\n";
    return kExitFailure;
  }
  const RequestFlops f = request_flops(*info, a.input, a.output, *logits);
  if (a.json) {
    nlohmann::json j = to_json(*info);
    j["flops"] = to_json(f, *logits);
    std::cout << j.dump(2) << "\n";
  } else {
    print_info(*info, &f, *logits);
  }
  return kExitOk;
}

int run_synth(const SynthArgs& a) {
  SynthConfig c;
  if (!a.preset.empty()) {
    auto p = synth_preset(a.preset);
    if (!p) {
      std::cerr << "jouleperf model synth: " << p.error().message << "\n";
      return kExitUsage;
    }
    c = *p;
  }
  if (a.dim) c.dim = a.dim;
  if (a.layers) c.layers = a.layers;
  if (a.heads) c.heads = a.heads;
  if (a.kv_heads)
    c.kv_heads = a.kv_heads;
  else if (a.preset.empty())
    c.kv_heads = c.heads;
  if (a.ffn) c.ffn = a.ffn;
  c.context_length = a.context;
  c.seed = a.seed;
  c.vocab_path = a.vocab_from.empty() ? default_vocab_path() : a.vocab_from;
  if (!a.name.empty()) c.name = a.name;
  auto type = parse_weight_type(a.type);
  if (!type) {
    std::cerr << "jouleperf model synth: " << type.error().message << "\n";
    return kExitUsage;
  }
  c.type = *type;
  if (auto st = validate_synth(c); !st) {
    std::cerr << "jouleperf model synth: " << st.error().message
              << " (give --preset tiny|small|medium or all of --dim --layers --heads --ffn)\n";
    return kExitUsage;
  }
  auto info = write_synthetic_gguf(c, a.out);
  if (!info) {
    std::cerr << "jouleperf model synth: " << info.error().to_string() << "\n";
    return kExitFailure;
  }
  if (a.json) {
    nlohmann::json j = to_json(*info);
    j["path"] = a.out;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("wrote {}: {} parameters, {} bytes ({}), seed {} [SYNTHETIC: random weights]\n", a.out,
                             grouped(info->params_total), grouped(info->weight_bytes), info->weight_type, c.seed);
  }
  return kExitOk;
}

}  // namespace

void add_model_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("model", "Model facts (parameters, bytes, KV cache, FLOPs) and synthetic models");
  cmd->require_subcommand(1);

  auto info = std::make_shared<InfoArgs>();
  auto* ic = cmd->add_subcommand("info", "Parameters, weight bytes, KV-cache bytes per token and FLOPs of a model");
  ic->add_option("file", info->file, "A GGUF model file");
  std::string names;
  for (const auto& a : builtin_archs()) names += (names.empty() ? "" : ", ") + a.name;
  ic->add_option("--arch", info->arch, "A built-in architecture: " + names);
  ic->add_option("--input,-I", info->input, "Prompt tokens for the FLOPs figures")->capture_default_str();
  ic->add_option("--output,-O", info->output, "Generated tokens for the FLOPs figures")->capture_default_str();
  ic->add_option("--logits", info->logits,
                 "Prefill computes logits for the 'last' prompt token (llama.cpp, vLLM) or 'all' (eager stacks)")
      ->envname("JOULEPERF_LOGITS")
      ->capture_default_str();
  ic->add_flag("--json", info->json, "Print JSON");
  ic->callback([info, &ctx] { ctx.exit_code = run_info(*info); });

  auto synth = std::make_shared<SynthArgs>();
  auto* sc = cmd->add_subcommand("synth", "Write a Llama-architecture GGUF with random weights");
  sc->add_option("--preset", synth->preset, "tiny (~25 M parameters), small (~60 M) or medium (~270 M)");
  sc->add_option("--dim", synth->dim, "Hidden size (overrides the preset)");
  sc->add_option("--layers", synth->layers, "Layers");
  sc->add_option("--heads", synth->heads, "Attention heads");
  sc->add_option("--kv-heads", synth->kv_heads, "Key/value heads (default: the preset's, else --heads)");
  sc->add_option("--ffn", synth->ffn, "FFN intermediate size");
  sc->add_option("--context", synth->context, "llama.context_length written to the file")->capture_default_str();
  sc->add_option("--vocab-from", synth->vocab_from,
                 "GGUF whose tokenizer is copied (default: llama.cpp's models/ggml-vocab-llama-spm.gguf)")
      ->envname("JOULEPERF_VOCAB");
  sc->add_option("--type", synth->type, "Weight type: f32, f16, q8_0, q4_0")->capture_default_str();
  sc->add_option("--seed", synth->seed, "Random seed of the weights")->capture_default_str();
  sc->add_option("--name", synth->name, "general.name (default: synthetic-<preset>)");
  sc->add_option("-o,--out", synth->out, "Output file (.gguf)")->required();
  sc->add_flag("--json", synth->json, "Print what was written as JSON");
  sc->callback([synth, &ctx] { ctx.exit_code = run_synth(*synth); });
}

}  // namespace jouleperf::cli
