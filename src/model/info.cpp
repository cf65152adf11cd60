#include "jouleperf/model/info.hpp"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "ggml_log.hpp"
#include "jouleperf/core/text.hpp"

namespace jouleperf {

std::uint64_t kv_bytes_per_token(const ModelArch& a, std::uint64_t bytes_per_element) {
  return 2 * a.layers * a.kv_heads * a.head_dim * bytes_per_element;
}

ModelInfo info_from_arch(const ModelArch& a) {
  const std::uint64_t d = a.dim;
  const std::uint64_t q_width = a.heads * a.head_dim;
  const std::uint64_t kv_width = a.kv_heads * a.head_dim;
  std::uint64_t attn = d * q_width + 2 * d * kv_width + q_width * d;
  if (a.qkv_bias) attn += q_width + 2 * kv_width;
  if (a.qk_norm) attn += q_width + kv_width;
  const std::uint64_t norms = a.norm == NormKind::kRmsNorm ? 2 * d : 0;
  const std::uint64_t one_ffn = (a.gated_ffn ? 3 : 2) * d * a.ffn;
  std::uint64_t ffn_all = one_ffn;
  std::uint64_t ffn_active = one_ffn;
  if (a.experts > 0) {
    const std::uint64_t router = d * a.experts;
    ffn_all = a.experts * one_ffn + router;
    ffn_active = a.experts_used * one_ffn + router;
  }
  const std::uint64_t final_norm = a.norm == NormKind::kRmsNorm ? d : 0;

  ModelInfo info;
  info.arch = a;
  info.params_embedding = a.vocab * d * (a.tied_embeddings ? 1 : 2);
  info.params_non_embedding = a.layers * (attn + norms + ffn_all) + final_norm;
  info.params_active = a.layers * (attn + norms + ffn_active) + final_norm;
  info.params_total = info.params_embedding + info.params_non_embedding;
  info.weight_bytes = 2 * info.params_total;
  info.weight_type = "bf16";
  info.kv_bytes_per_token = kv_bytes_per_token(a);
  info.origin = "built-in";
  return info;
}

namespace {

struct GgufDeleter {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// An unsigned integer value, or each element of an integer array (per-layer values).
std::optional<std::vector<std::uint64_t>> get_uints(const gguf_context* ctx, const std::string& key) {
  const int64_t id = gguf_find_key(ctx, key.c_str());
  if (id < 0) return std::nullopt;
  auto scalar = [&](gguf_type t, const void* p) -> std::optional<std::uint64_t> {
    switch (t) {
      case GGUF_TYPE_UINT8: return *static_cast<const uint8_t*>(p);
      case GGUF_TYPE_UINT16: return *static_cast<const uint16_t*>(p);
      case GGUF_TYPE_UINT32: return *static_cast<const uint32_t*>(p);
      case GGUF_TYPE_UINT64: return *static_cast<const uint64_t*>(p);
      case GGUF_TYPE_INT8: return *static_cast<const int8_t*>(p) < 0 ? 0 : *static_cast<const int8_t*>(p);
      case GGUF_TYPE_INT16: return *static_cast<const int16_t*>(p) < 0 ? 0 : *static_cast<const int16_t*>(p);
      case GGUF_TYPE_INT32: return *static_cast<const int32_t*>(p) < 0 ? 0 : *static_cast<const int32_t*>(p);
      case GGUF_TYPE_INT64:
        return *static_cast<const int64_t*>(p) < 0 ? 0 : static_cast<std::uint64_t>(*static_cast<const int64_t*>(p));
      default: return std::nullopt;
    }
  };
  const gguf_type t = gguf_get_kv_type(ctx, id);
  std::vector<std::uint64_t> out;
  if (t == GGUF_TYPE_ARRAY) {
    const gguf_type et = gguf_get_arr_type(ctx, id);
    const std::size_t n = gguf_get_arr_n(ctx, id);
    const auto* data = static_cast<const char*>(gguf_get_arr_data(ctx, id));
    const std::size_t sz = et == GGUF_TYPE_UINT8 || et == GGUF_TYPE_INT8     ? 1
                           : et == GGUF_TYPE_UINT16 || et == GGUF_TYPE_INT16 ? 2
                           : et == GGUF_TYPE_UINT32 || et == GGUF_TYPE_INT32 ? 4
                                                                             : 8;
    for (std::size_t i = 0; i < n; ++i) {
      auto v = scalar(et, data + i * sz);
      if (!v) return std::nullopt;
      out.push_back(*v);
    }
  } else {
    auto v = scalar(t, gguf_get_val_data(ctx, id));
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::optional<std::uint64_t> get_max(const gguf_context* ctx, const std::string& key) {
  auto v = get_uints(ctx, key);
  if (!v || v->empty()) return std::nullopt;
  std::uint64_t m = 0;
  for (auto x : *v) m = std::max(m, x);
  return m;
}

std::optional<std::string> get_str(const gguf_context* ctx, const char* key) {
  const int64_t id = gguf_find_key(ctx, key);
  if (id < 0 || gguf_get_kv_type(ctx, id) != GGUF_TYPE_STRING) return std::nullopt;
  return std::string(gguf_get_val_str(ctx, id));
}

}  // namespace

Result<ModelInfo> read_gguf_info(const std::string& path) {
  detail::quiet_ggml_log();
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return errno_error(errno, path);
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  detail::take_ggml_error();
  GgufPtr ctx(gguf_init_from_file_ptr(file.get(), params));
  if (!ctx) {
    const std::string why = detail::take_ggml_error();
    return make_error(Errc::kParse,
                      fmt::format("{}: not a readable GGUF file{}{}", path, why.empty() ? "" : ": ", why));
  }
  const gguf_context* c = ctx.get();
  auto arch_name = get_str(c, "general.architecture");
  if (!arch_name) return make_error(Errc::kParse, fmt::format("{}: GGUF has no general.architecture", path));
  const std::string p = *arch_name + ".";
  auto required = [&](const std::string& key) -> Result<std::uint64_t> {
    auto v = get_max(c, key);
    if (!v || *v == 0) return make_error(Errc::kParse, fmt::format("{}: GGUF lacks {}", path, key));
    return *v;
  };

  ModelInfo info;
  ModelArch& a = info.arch;
  a.family = *arch_name;
  a.name = get_str(c, "general.name").value_or(std::filesystem::path(path).stem().string());
  auto dim = required(p + "embedding_length");
  if (!dim) return dim.error();
  auto layers = required(p + "block_count");
  if (!layers) return layers.error();
  auto heads = required(p + "attention.head_count");
  if (!heads) return heads.error();
  a.dim = *dim;
  a.layers = *layers;
  a.heads = *heads;
  a.head_dim = get_max(c, p + "attention.key_length").value_or(a.dim / a.heads);
  const std::uint64_t value_dim = get_max(c, p + "attention.value_length").value_or(a.head_dim);
  a.ffn = get_max(c, p + "feed_forward_length").value_or(0);
  a.experts = get_max(c, p + "expert_count").value_or(0);
  a.experts_used = get_max(c, p + "expert_used_count").value_or(0);
  if (a.experts > 0) a.ffn = get_max(c, p + "expert_feed_forward_length").value_or(a.ffn);
  a.context_length = get_max(c, p + "context_length").value_or(0);

  // KV heads may be given per layer (0 for layers without attention).
  std::vector<std::uint64_t> kv_per_layer(a.layers, a.heads);
  if (auto kv = get_uints(c, p + "attention.head_count_kv")) {
    if (kv->size() == 1)
      kv_per_layer.assign(a.layers, kv->front());
    else if (kv->size() == a.layers)
      kv_per_layer = *kv;
  }
  std::uint64_t kv_sum = 0;
  for (auto k : kv_per_layer) {
    kv_sum += k;
    a.kv_heads = std::max(a.kv_heads, k);
  }
  info.kv_bytes_per_token = kv_sum * (a.head_dim + value_dim) * 2;

  // Parameters and bytes as stored.
  std::map<std::string, std::uint64_t> bytes_by_type;
  std::uint64_t expert_params = 0;
  bool has_output = false;
  std::uint64_t embd_vocab = 0;
  const int64_t n_tensors = gguf_get_n_tensors(c);
  for (int64_t i = 0; i < n_tensors; ++i) {
    const std::string name = gguf_get_tensor_name(c, i);
    const int64_t* ne = gguf_get_tensor_ne(c, i);
    std::uint64_t n = 1;
    int dims = 0;
    for (int d = 0; d < GGML_MAX_DIMS; ++d) {
      n *= static_cast<std::uint64_t>(ne[d]);
      if (ne[d] > 1) dims = d + 1;
    }
    const std::uint64_t bytes = gguf_get_tensor_size(c, i);
    info.params_total += n;
    info.weight_bytes += bytes;
    if (dims >= 2) bytes_by_type[ggml_type_name(gguf_get_tensor_type(c, i))] += bytes;
    if (name == "token_embd.weight") {
      info.params_embedding += n;
      embd_vocab = static_cast<std::uint64_t>(ne[1]);
    } else if (name == "output.weight") {
      info.params_embedding += n;
      has_output = true;
    } else if (name.find("_exps") != std::string::npos) {
      expert_params += n;
    }
  }
  a.tied_embeddings = !has_output;
  info.params_non_embedding = info.params_total - info.params_embedding;
  info.params_active = info.params_non_embedding;
  if (a.experts > 0 && a.experts_used <= a.experts)
    info.params_active -= expert_params - expert_params / a.experts * a.experts_used;

  a.vocab = get_max(c, p + "vocab_size").value_or(0);
  if (a.vocab == 0) {
    const int64_t id = gguf_find_key(c, "tokenizer.ggml.tokens");
    if (id >= 0 && gguf_get_kv_type(c, id) == GGUF_TYPE_ARRAY) a.vocab = gguf_get_arr_n(c, id);
  }
  if (a.vocab == 0) a.vocab = embd_vocab;

  std::string main_type;
  std::uint64_t main_bytes = 0;
  for (const auto& [type, bytes] : bytes_by_type) {
    if (bytes > main_bytes) {
      main_type = type;
      main_bytes = bytes;
    }
  }
  info.weight_type = bytes_by_type.size() > 1 ? main_type + " (mixed)" : main_type;

  const int64_t syn = gguf_find_key(c, "jouleperf.synthetic");
  info.synthetic = syn >= 0 && gguf_get_kv_type(c, syn) == GGUF_TYPE_BOOL && gguf_get_val_bool(c, syn);
  if (info.synthetic) info.synthetic_seed = get_max(c, "jouleperf.synthetic.seed").value_or(0);
  a.source = path;
  info.origin = path;
  return info;
}

}  // namespace jouleperf
