// Model architectures: the hyper-parameters that fix a transformer's parameter count,
// FLOPs and KV-cache size, and the built-in ones (from their published config.json), so
// the FLOPs baseline and the simulator need no model file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

enum class NormKind {
  kRmsNorm,            // RMSNorm with a weight vector of `dim` (Llama, Qwen2, OLMoE)
  kLayerNormNoParams,  // LayerNorm without weights or bias (OLMo-1B/7B): 0 parameters
};

// A decoder-only transformer with rotary positions (no position-embedding matrix).
struct ModelArch {
  std::string name;    // "Llama-3.1-8B"
  std::string family;  // config.json model_type: llama, qwen2, olmo, olmoe
  std::uint64_t vocab = 0;
  std::uint64_t dim = 0;  // hidden size d
  std::uint64_t layers = 0;
  std::uint64_t heads = 0;         // query heads
  std::uint64_t kv_heads = 0;      // key/value heads (grouped-query attention when < heads)
  std::uint64_t head_dim = 0;      // per head, for q, k and v
  std::uint64_t ffn = 0;           // FFN intermediate size (per expert for a mixture of experts)
  std::uint64_t experts = 0;       // routed experts per layer; 0 = dense FFN
  std::uint64_t experts_used = 0;  // experts each token goes through
  bool gated_ffn = true;           // SwiGLU (gate, up, down); false: up, down
  bool tied_embeddings = false;    // the output head reuses the token embedding
  bool qkv_bias = false;           // bias vectors on q, k, v (Qwen1.5/Qwen2)
  bool qk_norm = false;            // RMSNorm on q and k over all heads (OLMoE)
  NormKind norm = NormKind::kRmsNorm;
  std::uint64_t context_length = 0;  // positions the model was configured for
  std::string source;                // where the numbers come from
};

// The built-in architectures: Llama-3.1-8B, Llama-3.1-70B, Llama-3.2-1B, Qwen1.5-32B,
// OLMo-1B, OLMo-7B, OLMoE-1B-7B.
const std::vector<ModelArch>& builtin_archs();

// Looks a built-in architecture up by name, ignoring case. Fails with kNotFound naming
// the known ones.
Result<ModelArch> find_builtin_arch(std::string_view name);

// Checks that the hyper-parameters describe a model (non-zero sizes, heads divisible by
// kv_heads, experts_used <= experts). Fails with kInvalidArgument naming the field.
Status validate_arch(const ModelArch& arch);

}  // namespace jouleperf
