// The llama.cpp engine's settings, filled in one place: `run`, `replay` (flags, through
// cli/llama_flags) and a study's configurations (settings keys) all make a LlamaSettings
// and turn it into the engine's configuration with llama_engine_config.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/engine/prompt.hpp"

namespace jouleperf {

struct LlamaSettings {
  int threads = 0;                  // decode threads; 0 = every hardware thread
  int threads_batch = 0;            // prefill threads; 0 = threads
  std::string flash_attn = "auto";  // auto | on | off
  std::string kv_type = "f16";      // f32 | f16 | bf16 | q8_0 | q4_0
  std::uint32_t n_batch = 2048;     // most tokens per forward call
  std::uint32_t n_ubatch = 512;     // tokens per physical micro-batch
  int gpu_layers = -1;              // layers offloaded to a GPU backend, if built; -1 = all
  bool no_mmap = false;             // read the model into memory instead of mapping it
  std::string draft;                // draft GGUF for strategy speculative ("" = none)
};

// The engine configuration of `model_path` with `settings` and optional prompt texts.
// Fails with kInvalidArgument for a flash_attn other than auto/on/off, negative thread
// counts, or n_batch / n_ubatch outside [1, 2^24] (kv_type is checked when the engine opens).
Result<LlamaEngineConfig> llama_engine_config(const std::string& model_path, const LlamaSettings& settings,
                                              std::optional<PromptTexts> prompts = {});

// The settings keys a study configuration may give for llama.cpp (other than prompts and
// decoding): threads_batch, flash_attn (old spelling flash_attention), kv_type, n_batch,
// n_ubatch, gpu_layers, mmap (true/false), draft_model.
const std::vector<std::string_view>& llama_setting_keys();

// Settings from a study configuration's key -> value lookup (absent keys keep the
// defaults) and its thread count. Fails with kInvalidArgument naming the key for a value
// that is not of the key's kind, or both spellings of flash_attn. `notes` (if given)
// receives one line per deprecated spelling used (for the caller to show; nothing prints).
Result<LlamaSettings> llama_settings_from_keys(const std::function<std::optional<std::string>(std::string_view)>& get,
                                               int threads, std::vector<std::string>* notes = nullptr);

}  // namespace jouleperf
