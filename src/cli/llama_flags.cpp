#include "llama_flags.hpp"

namespace jouleperf::cli {

void add_llama_flags(CLI::App* cmd, LlamaSettings& s, const std::string& prefix) {
  cmd->add_option("--threads,-t", s.threads, prefix + "decode threads (0 = every hardware thread)")
      ->envname("JOULEPERF_THREADS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--threads-batch", s.threads_batch, prefix + "prefill threads (0 = --threads)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--flash-attn,--flash-attention", s.flash_attn, prefix + "flash attention: auto, on, off")
      ->capture_default_str();
  cmd->add_option("--kv-type", s.kv_type, prefix + "KV-cache type: f32, f16, bf16, q8_0, q4_0")->capture_default_str();
  cmd->add_option("--n-batch", s.n_batch, prefix + "most tokens per forward call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--n-ubatch", s.n_ubatch, prefix + "tokens per physical micro-batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--gpu-layers", s.gpu_layers, prefix + "layers offloaded to a GPU backend when built (-1 = all)")
      ->capture_default_str();
  cmd->add_flag("--no-mmap", s.no_mmap, prefix + "read the model into memory instead of mapping it");
  cmd->add_option("--draft", s.draft, prefix + "speculative: draft GGUF model (same vocabulary as --model)");
}

}  // namespace jouleperf::cli
