// `model info` and `model synth` as library calls: the options a caller gives, the model
// they name or write, and what is printed about it as a Document (core/output.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/model/flops.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/model/synth.hpp"

namespace jouleperf {

// A built-in architecture by name (arch.hpp), else a GGUF file's own tensors and
// hyper-parameters. Fails with the file's error (kIo, kParse) saying the name is not a
// built-in architecture either.
Result<ModelInfo> builtin_or_gguf_info(const std::string& name_or_path);

struct ModelInfoOptions {
  std::string file;                   // a GGUF file, or
  std::string arch;                   // a built-in architecture (exactly one of the two)
  std::uint64_t input_tokens = 512;   // prompt tokens for the FLOPs figures
  std::uint32_t output_tokens = 128;  // generated tokens for the FLOPs figures
  std::string logits = "last";        // "last" | "all" (flops.hpp, LogitsMode)
};

// The model and the FLOPs of one request: header lines (model, source, architecture),
// tables "model" (quantity, value, note: parameters, bytes, KV bytes per token) and
// "flops" (phase, total, matmul, attention, logits, in FLOPs); JSON: to_json(info) with
// "flops" (model_json.hpp). kInvalidArgument: not exactly one of file and arch, an unknown
// logits mode or architecture; a file that cannot be read fails as read_gguf_info.
Result<table::Document> model_info_document(const ModelInfoOptions& o);

struct ModelSynthOptions {
  std::string preset;  // tiny | small | medium (or every shape field below)
  std::uint64_t dim = 0, layers = 0, heads = 0, kv_heads = 0, ffn = 0;  // 0: the preset's
  std::uint64_t context = 4096;
  std::string vocab_from;  // empty: default_vocab_path()
  std::string type = "f16";
  std::uint64_t seed = 1;
  std::string name;  // empty: the preset's
};

// The configuration the options describe (kv_heads defaults to heads without a preset).
// kInvalidArgument for an unknown preset or weight type or an incomplete or invalid shape
// (the message says which fields to give).
Result<SynthConfig> synth_config(const ModelSynthOptions& o);

// What `model synth` wrote to `path`: a header line naming it, table "written" (quantity,
// value: params_total, weight_bytes, weight_type, seed); JSON: to_json(info) with "path".
table::Document synth_document(const ModelInfo& info, const std::string& path);

}  // namespace jouleperf
