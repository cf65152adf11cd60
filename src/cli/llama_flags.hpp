// The llama.cpp engine flags shared by `run` and `replay` (threads, flash attention, KV
// type, batch sizes, GPU layers, mmap, draft model), bound to the library's LlamaSettings.
#pragma once

#include <CLI/CLI.hpp>

#include "jouleperf/engine/llama_settings.hpp"

namespace jouleperf::cli {

// Adds --threads/-t, --threads-batch, --flash-attn (old spelling --flash-attention),
// --kv-type, --n-batch, --n-ubatch, --gpu-layers, --no-mmap and --draft to `cmd`.
// `prefix` starts each help text (e.g. "llamacpp: " where the command has other engines).
void add_llama_flags(CLI::App* cmd, LlamaSettings& settings, const std::string& prefix = "");

}  // namespace jouleperf::cli
