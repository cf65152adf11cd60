// What a model costs: parameters, weight bytes and KV-cache bytes per token, from a
// built-in architecture or from a GGUF file's metadata and tensor table.
#pragma once

#include <cstdint>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/model/arch.hpp"

namespace jouleperf {

struct ModelInfo {
  ModelArch arch;                          // hyper-parameters (for FLOPs and the KV cache)
  std::uint64_t params_total = 0;          // every weight, embeddings included
  std::uint64_t params_embedding = 0;      // token embedding + an untied output head
  std::uint64_t params_non_embedding = 0;  // params_total - params_embedding
  std::uint64_t params_active = 0;         // non-embedding parameters one token goes through
                                           // (a mixture of experts: the routed experts only)
  std::uint64_t weight_bytes = 0;          // bytes of all weights as stored
  std::string weight_type;                 // "bf16" (built-ins, as published), else the GGUF's
                                           // main tensor type, "mixed" when several
  std::uint64_t kv_bytes_per_token = 0;    // K and V of every layer for one token, f16 cache, B
  bool synthetic = false;                  // random weights written by `jouleperf model synth`
  std::uint64_t synthetic_seed = 0;        // the seed they were drawn from (when synthetic)
  std::string origin;                      // "built-in" or the GGUF path
};

// Counts an architecture by formula (docs/method.md), weights as bf16 (2 bytes each).
// The architecture must pass validate_arch.
ModelInfo info_from_arch(const ModelArch& arch);

// KV-cache bytes per token: 2 (K and V) * layers * kv_heads * head_dim * bytes_per_element.
std::uint64_t kv_bytes_per_token(const ModelArch& arch, std::uint64_t bytes_per_element = 2);

// Reads a GGUF file's metadata and tensor table (no weights are read) through ggml's gguf
// API. Parameters and bytes are summed over the tensors as stored; the hyper-parameters
// come from the `<architecture>.*` keys. Fails with kNotFound / kPermissionDenied when the
// file cannot be opened, kParse when it is not a GGUF or lacks a required key.
Result<ModelInfo> read_gguf_info(const std::string& path);

}  // namespace jouleperf
