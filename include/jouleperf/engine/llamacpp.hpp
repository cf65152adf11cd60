// The in-process llama.cpp engine: loads a GGUF model once and runs batches on it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/engine.hpp"
#include "jouleperf/engine/prompt.hpp"

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
  // Real prompt text instead of random token ids (unset: random ids). Every prompt is
  // tokenized once when the engine opens (llama_tokenize, the model's vocabulary, no
  // special tokens; BOS first when the vocabulary asks for it) and fitted to exactly I
  // tokens per sequence by fit_prompt, prompts joined by the tokens of "\n".
  std::optional<PromptTexts> prompts;
};

// Loads the model. Fails with kNotFound / kPermissionDenied when the file cannot be
// opened, kParse when llama.cpp cannot load it (with its reason), kInvalidArgument for
// a bad setting, a draft model whose vocabulary differs from the model's, or a prompt
// that tokenizes to nothing (naming its file and line).
Result<std::unique_ptr<Engine>> open_llamacpp_engine(const LlamaEngineConfig& config);

}  // namespace jouleperf
