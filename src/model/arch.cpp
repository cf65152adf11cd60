#include "jouleperf/model/arch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace jouleperf {
namespace {

ModelArch make(std::string name, std::string family, std::uint64_t vocab, std::uint64_t dim, std::uint64_t layers,
               std::uint64_t heads, std::uint64_t kv_heads, std::uint64_t ffn, std::uint64_t context_length,
               std::string source) {
  ModelArch a;
  a.name = std::move(name);
  a.family = std::move(family);
  a.vocab = vocab;
  a.dim = dim;
  a.layers = layers;
  a.heads = heads;
  a.kv_heads = kv_heads;
  a.head_dim = dim / heads;
  a.ffn = ffn;
  a.context_length = context_length;
  a.source = std::move(source);
  return a;
}

std::vector<ModelArch> make_builtins() {
  std::vector<ModelArch> v;
  // meta-llama/Llama-3.1-8B config.json: hidden_size 4096, intermediate_size 14336,
  // 32 layers, 32 heads, 8 KV heads, vocab 128256, untied, max_position_embeddings 131072.
  v.push_back(make("Llama-3.1-8B", "llama", 128256, 4096, 32, 32, 8, 14336, 131072,
                   "huggingface.co/meta-llama/Llama-3.1-8B config.json"));
  // meta-llama/Llama-3.1-70B config.json: hidden_size 8192, intermediate_size 28672,
  // 80 layers, 64 heads, 8 KV heads, vocab 128256, untied.
  v.push_back(make("Llama-3.1-70B", "llama", 128256, 8192, 80, 64, 8, 28672, 131072,
                   "huggingface.co/meta-llama/Llama-3.1-70B config.json"));
  // meta-llama/Llama-3.2-1B config.json: hidden_size 2048, intermediate_size 8192,
  // 16 layers, 32 heads (head_dim 64), 8 KV heads, vocab 128256, tie_word_embeddings true.
  {
    ModelArch a = make("Llama-3.2-1B", "llama", 128256, 2048, 16, 32, 8, 8192, 131072,
                       "huggingface.co/meta-llama/Llama-3.2-1B config.json");
    a.tied_embeddings = true;
    v.push_back(a);
  }
  // Qwen/Qwen1.5-32B config.json (Qwen2ForCausalLM): hidden_size 5120,
  // intermediate_size 27392, 64 layers, 40 heads, 8 KV heads, vocab 152064, untied,
  // bias on q/k/v (the Qwen2 architecture), max_position_embeddings 32768.
  {
    ModelArch a = make("Qwen1.5-32B", "qwen2", 152064, 5120, 64, 40, 8, 27392, 32768,
                       "huggingface.co/Qwen/Qwen1.5-32B config.json");
    a.qkv_bias = true;
    v.push_back(a);
  }
  // allenai/OLMo-1B-hf config.json: hidden_size 2048, intermediate_size 8192, 16 layers,
  // 16 heads = KV heads, vocab 50304, tie_word_embeddings true; OLMo's LayerNorm has no
  // parameters.
  {
    ModelArch a =
        make("OLMo-1B", "olmo", 50304, 2048, 16, 16, 16, 8192, 2048, "huggingface.co/allenai/OLMo-1B-hf config.json");
    a.tied_embeddings = true;
    a.norm = NormKind::kLayerNormNoParams;
    v.push_back(a);
  }
  // allenai/OLMo-7B-hf config.json: hidden_size 4096, intermediate_size 11008, 32 layers,
  // 32 heads = KV heads, vocab 50304, untied; non-parametric LayerNorm.
  {
    ModelArch a =
        make("OLMo-7B", "olmo", 50304, 4096, 32, 32, 32, 11008, 2048, "huggingface.co/allenai/OLMo-7B-hf config.json");
    a.norm = NormKind::kLayerNormNoParams;
    v.push_back(a);
  }
  // allenai/OLMoE-1B-7B-0924 config.json: hidden_size 2048, intermediate_size 1024 per
  // expert, 64 experts, 8 per token, 16 layers, 16 heads = KV heads, vocab 50304, untied;
  // RMSNorm on q and k (OLMoE paper, arXiv 2409.02060).
  {
    ModelArch a = make("OLMoE-1B-7B", "olmoe", 50304, 2048, 16, 16, 16, 1024, 4096,
                       "huggingface.co/allenai/OLMoE-1B-7B-0924 config.json");
    a.experts = 64;
    a.experts_used = 8;
    a.qk_norm = true;
    v.push_back(a);
  }
  return v;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const std::vector<ModelArch>& builtin_archs() {
  static const std::vector<ModelArch> archs = make_builtins();
  return archs;
}

Result<ModelArch> find_builtin_arch(std::string_view name) {
  std::string known;
  for (const auto& a : builtin_archs()) {
    if (iequal(a.name, name)) return a;
    known += known.empty() ? a.name : ", " + a.name;
  }
  return make_error(Errc::kNotFound, fmt::format("no built-in architecture '{}' (known: {})", name, known));
}

Status validate_arch(const ModelArch& a) {
  auto bad = [&](std::string_view what) {
    return make_error(Errc::kInvalidArgument, fmt::format("architecture '{}': {}", a.name, what));
  };
  if (a.vocab == 0) return bad("vocab must be > 0");
  if (a.dim == 0) return bad("dim must be > 0");
  if (a.layers == 0) return bad("layers must be > 0");
  if (a.heads == 0) return bad("heads must be > 0");
  if (a.kv_heads == 0) return bad("kv_heads must be > 0");
  if (a.heads % a.kv_heads != 0)
    return bad(fmt::format("heads ({}) must be a multiple of kv_heads ({})", a.heads, a.kv_heads));
  if (a.head_dim == 0) return bad("head_dim must be > 0");
  if (a.ffn == 0) return bad("ffn must be > 0");
  if (a.experts_used > a.experts) return bad("experts_used must not exceed experts");
  if (a.experts > 0 && a.experts_used == 0) return bad("experts_used must be > 0 for a mixture of experts");
  return {};
}

}  // namespace jouleperf
