#include "jouleperf/engine/llama_settings.hpp"

#include <fmt/format.h>

#include "jouleperf/core/text.hpp"

namespace jouleperf {

namespace {

constexpr std::uint64_t kMaxBatch = 1u << 24;

Error bad_key(std::string_view key, const std::string& value, std::string_view want) {
  return make_error(Errc::kInvalidArgument, fmt::format("setting {}: \"{}\" is not {}", key, value, want));
}

// A whole-number key in [lo, hi], or `dflt` when absent.
Result<std::int64_t> int_key(const std::function<std::optional<std::string>(std::string_view)>& get,
                             std::string_view key, std::int64_t dflt, std::int64_t lo, std::int64_t hi) {
  const auto v = get(key);
  if (!v) return dflt;
  const auto n = parse_i64(*v);
  if (!n || *n < lo || *n > hi) return bad_key(key, *v, fmt::format("a whole number in [{}, {}]", lo, hi));
  return *n;
}

}  // namespace

Result<LlamaEngineConfig> llama_engine_config(const std::string& model_path, const LlamaSettings& s,
                                              std::optional<PromptTexts> prompts) {
  auto flash = parse_flash_attention(s.flash_attn);
  if (!flash) return flash.error();
  if (s.threads < 0 || s.threads_batch < 0)
    return make_error(Errc::kInvalidArgument, "threads and threads-batch must be >= 0");
  if (s.n_batch == 0 || s.n_batch > kMaxBatch || s.n_ubatch == 0 || s.n_ubatch > kMaxBatch)
    return make_error(Errc::kInvalidArgument, "n_batch / n_ubatch must be between 1 and 2^24");
  LlamaEngineConfig cfg;
  cfg.model_path = model_path;
  cfg.threads = s.threads;
  cfg.threads_batch = s.threads_batch;
  cfg.flash_attention = *flash;
  cfg.kv_type = s.kv_type;
  cfg.n_batch = s.n_batch;
  cfg.n_ubatch = s.n_ubatch;
  cfg.gpu_layers = s.gpu_layers;
  cfg.mmap = !s.no_mmap;
  cfg.draft_model_path = s.draft;
  cfg.prompts = std::move(prompts);
  return cfg;
}

const std::vector<std::string_view>& llama_setting_keys() {
  static const std::vector<std::string_view> keys = {"threads_batch", "flash_attn", "flash_attention",
                                                     "kv_type",       "n_batch",    "n_ubatch",
                                                     "gpu_layers",    "mmap",       "draft_model"};
  return keys;
}

Result<LlamaSettings> llama_settings_from_keys(const std::function<std::optional<std::string>(std::string_view)>& get,
                                               int threads, std::vector<std::string>* notes) {
  LlamaSettings s;
  s.threads = threads;
  auto tb = int_key(get, "threads_batch", 0, 0, 4096);
  auto nb = int_key(get, "n_batch", s.n_batch, 1, kMaxBatch);
  auto nub = int_key(get, "n_ubatch", s.n_ubatch, 1, kMaxBatch);
  auto gl = int_key(get, "gpu_layers", s.gpu_layers, -1, 100000);
  for (const auto* r : {&tb, &nb, &nub, &gl})
    if (!*r) return r->error();
  s.threads_batch = static_cast<int>(*tb);
  s.n_batch = static_cast<std::uint32_t>(*nb);
  s.n_ubatch = static_cast<std::uint32_t>(*nub);
  s.gpu_layers = static_cast<int>(*gl);
  const auto fa = get("flash_attn");
  const auto fa_old = get("flash_attention");
  if (fa && fa_old) return make_error(Errc::kInvalidArgument, "settings flash_attn and flash_attention: give one");
  if (fa_old && notes != nullptr)
    notes->push_back("setting flash_attention is deprecated: spell it flash_attn (as the flag --flash-attn)");
  if (fa || fa_old) {
    s.flash_attn = fa ? *fa : *fa_old;
    if (auto f = parse_flash_attention(s.flash_attn); !f)
      return make_error(Errc::kInvalidArgument, "setting flash_attn: " + f.error().message);
  }
  if (auto kv = get("kv_type")) s.kv_type = *kv;
  if (auto mm = get("mmap")) {
    if (*mm != "true" && *mm != "false") return bad_key("mmap", *mm, "true or false");
    s.no_mmap = *mm == "false";
  }
  if (auto d = get("draft_model")) s.draft = *d;
  return s;
}

}  // namespace jouleperf
