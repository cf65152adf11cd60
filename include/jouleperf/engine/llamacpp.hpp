// The in-process llama.cpp engine: loads a GGUF model once and runs batches on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"

namespace jouleperf {

enum class FlashAttention { kAuto, kOn, kOff };

// "auto", "on", "off"; fails with kInvalidArgument otherwise.
Result<FlashAttention> parse_flash_attention(std::string_view s);

struct LlamaEngineConfig {
  std::string model_path;  // a GGUF file
  int threads = 0;         // decode threads; 0 = every hardware thread
  int threads_batch = 0;   // prefill threads; 0 = same as threads
  FlashAttention flash_attention = FlashAttention::kAuto;
  std::string kv_type = "f16";   // K and V cache element type: f32, f16, bf16, q8_0, q4_0
  std::uint32_t n_batch = 2048;  // most tokens per forward call (raised to B when smaller)
  std::uint32_t n_ubatch = 512;  // tokens per physical micro-batch
  int gpu_layers = -1;           // layers offloaded to a GPU backend, if built in; -1 = all
  bool mmap = true;              // map the model file instead of reading it
  // A GGUF draft model for strategy kSpeculative (empty: none), loaded with the same
  // settings; its vocabulary must equal the model's.
  std::string draft_model_path;
};

// Loads the model. Fails with kNotFound / kPermissionDenied when the file cannot be
// opened, kParse when llama.cpp cannot load it (with its reason), kInvalidArgument for
// a bad setting or a draft model whose vocabulary differs from the model's.
Result<std::unique_ptr<Engine>> open_llamacpp_engine(const LlamaEngineConfig& config);

}  // namespace jouleperf
