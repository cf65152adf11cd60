// Synthetic models: a Llama-architecture GGUF with random weights, written through
// ggml's gguf API, with the tokenizer of a vocabulary GGUF. Energy and speed do not
// depend on weight values, so these stand in for real models where none can be
// downloaded; the file says it is synthetic (key `jouleperf.synthetic`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf {

enum class WeightType { kF32, kF16, kQ8_0, kQ4_0 };

// "f32", "f16", "q8_0", "q4_0"; fails with kInvalidArgument otherwise.
Result<WeightType> parse_weight_type(std::string_view s);
std::string_view weight_type_name(WeightType t);

struct SynthConfig {
  std::string name = "synthetic";  // general.name
  std::uint64_t dim = 0;           // hidden size; a multiple of 32 and of heads
  std::uint64_t layers = 0;
  std::uint64_t heads = 0;
  std::uint64_t kv_heads = 0;           // divides heads
  std::uint64_t ffn = 0;                // FFN intermediate size; a multiple of 32
  std::uint64_t context_length = 4096;  // llama.context_length
  WeightType type = WeightType::kF16;   // 2-D weights; norm vectors stay f32
  std::uint64_t seed = 1;               // same seed, same weights
  std::string vocab_path;               // GGUF whose tokenizer.* keys are copied
};

// The presets: "tiny" (~25 M parameters), "small" (~60 M), "medium" (~270 M), all with
// the 32000-token Llama SentencePiece vocabulary. Fails with kNotFound for other names.
Result<SynthConfig> synth_preset(std::string_view name);

// The vocabulary GGUF that ships with the llama.cpp source (models/ggml-vocab-llama-spm.gguf),
// as installed by scripts/build_llama.sh.
std::string default_vocab_path();

// Checks the shape (sizes > 0, heads | dim, kv_heads | heads, 32 | dim and ffn for the
// block-quantized types). Fails with kInvalidArgument naming the field.
Status validate_synth(const SynthConfig& config);

// Writes the model to `out_path` (replaced if present) and returns what it holds, as
// read_gguf_info would report it. Fails with kInvalidArgument for a bad shape, the
// vocabulary file's open/parse error, or kIo when the output cannot be written.
Result<ModelInfo> write_synthetic_gguf(const SynthConfig& config, const std::string& out_path);

}  // namespace jouleperf
