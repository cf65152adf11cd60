#include "jouleperf/model/synth.hpp"

#include <fmt/format.h>
#include <ggml.h>
#include <gguf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ggml_log.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/core/text.hpp"

namespace jouleperf {
namespace {

struct GgufDeleter {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
struct GgmlDeleter {
  void operator()(ggml_context* c) const { ggml_free(c); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

ggml_type to_ggml(WeightType t) {
  switch (t) {
    case WeightType::kF32: return GGML_TYPE_F32;
    case WeightType::kF16: return GGML_TYPE_F16;
    case WeightType::kQ8_0: return GGML_TYPE_Q8_0;
    case WeightType::kQ4_0: return GGML_TYPE_Q4_0;
  }
  return GGML_TYPE_F16;
}

// general.file_type values (llama.cpp's enum llama_ftype).
std::uint32_t file_type(WeightType t) {
  switch (t) {
    case WeightType::kF32: return 0;   // LLAMA_FTYPE_ALL_F32
    case WeightType::kF16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
    case WeightType::kQ8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case WeightType::kQ4_0: return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
  }
  return 1;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// One tensor to write: its shape, type and how to fill it.
struct TensorPlan {
  std::string name;
  std::int64_t ne0 = 0;  // row length
  std::int64_t ne1 = 1;  // rows (1 for vectors)
  ggml_type type = GGML_TYPE_F32;
  bool ones = false;  // norm weights: 1.0; else uniform random with standard deviation 0.02
};

std::vector<TensorPlan> plan_tensors(const SynthConfig& c, std::int64_t vocab) {
  const auto d = static_cast<std::int64_t>(c.dim);
  const auto hd = static_cast<std::int64_t>(c.dim / c.heads);
  const auto kv = static_cast<std::int64_t>(c.kv_heads) * hd;
  const auto ffn = static_cast<std::int64_t>(c.ffn);
  const ggml_type w = to_ggml(c.type);
  std::vector<TensorPlan> v;
  v.push_back({"token_embd.weight", d, vocab, w, false});
  v.push_back({"output_norm.weight", d, 1, GGML_TYPE_F32, true});
  v.push_back({"output.weight", d, vocab, w, false});
  for (std::uint64_t l = 0; l < c.layers; ++l) {
    const std::string b = fmt::format("blk.{}.", l);
    v.push_back({b + "attn_norm.weight", d, 1, GGML_TYPE_F32, true});
    v.push_back({b + "attn_q.weight", d, d, w, false});
    v.push_back({b + "attn_k.weight", d, kv, w, false});
    v.push_back({b + "attn_v.weight", d, kv, w, false});
    v.push_back({b + "attn_output.weight", d, d, w, false});
    v.push_back({b + "ffn_norm.weight", d, 1, GGML_TYPE_F32, true});
    v.push_back({b + "ffn_gate.weight", d, ffn, w, false});
    v.push_back({b + "ffn_up.weight", d, ffn, w, false});
    v.push_back({b + "ffn_down.weight", ffn, d, w, false});
  }
  return v;
}

// Writes one tensor's data, generated in chunks of rows so memory stays bounded.
Status write_tensor(std::FILE* f, const TensorPlan& t, std::uint64_t seed, const std::string& path) {
  std::uint64_t state = seed ^ fnv1a(t.name);
  // Uniform on [-a, a] has standard deviation a / sqrt(3): a = 0.02 * sqrt(3).
  const float amplitude = 0.0346410162f;
  const std::int64_t chunk_rows = std::max<std::int64_t>(1, (1 << 20) / t.ne0);
  std::vector<float> rows;
  std::vector<std::uint8_t> out;
  for (std::int64_t r0 = 0; r0 < t.ne1; r0 += chunk_rows) {
    const std::int64_t nr = std::min(chunk_rows, t.ne1 - r0);
    rows.resize(static_cast<std::size_t>(nr * t.ne0));
    for (float& x : rows) {
      if (t.ones) {
        x = 1.0f;
      } else {
        const double u = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;  // [0, 1)
        x = static_cast<float>((2.0 * u - 1.0) * amplitude);
      }
    }
    const std::size_t bytes = ggml_row_size(t.type, t.ne0) * static_cast<std::size_t>(nr);
    const void* data = rows.data();
    if (t.type == GGML_TYPE_F16) {
      out.resize(bytes);
      ggml_fp32_to_fp16_row(rows.data(), reinterpret_cast<ggml_fp16_t*>(out.data()), nr * t.ne0);
      data = out.data();
    } else if (t.type != GGML_TYPE_F32) {
      out.resize(bytes);
      ggml_quantize_chunk(t.type, rows.data(), out.data(), 0, nr, t.ne0, nullptr);
      data = out.data();
    }
    if (std::fwrite(data, 1, bytes, f) != bytes) return errno_error(errno, "writing " + path);
  }
  return {};
}

}  // namespace

Result<WeightType> parse_weight_type(std::string_view s) {
  if (s == "f32") return WeightType::kF32;
  if (s == "f16") return WeightType::kF16;
  if (s == "q8_0") return WeightType::kQ8_0;
  if (s == "q4_0") return WeightType::kQ4_0;
  return make_error(Errc::kInvalidArgument, fmt::format("weight type '{}': expected f32, f16, q8_0 or q4_0", s));
}

std::string_view weight_type_name(WeightType t) {
  switch (t) {
    case WeightType::kF32: return "f32";
    case WeightType::kF16: return "f16";
    case WeightType::kQ8_0: return "q8_0";
    case WeightType::kQ4_0: return "q4_0";
  }
  return "f16";
}

std::string default_vocab_path() { return std::string(JP_LLAMA_SHARE_DIR) + "/ggml-vocab-llama-spm.gguf"; }

Result<SynthConfig> synth_preset(std::string_view name) {
  SynthConfig c;
  c.name = fmt::format("synthetic-{}", name);
  c.vocab_path = default_vocab_path();
  if (name == "tiny") {  // 24.3 M parameters with the 32000-token vocabulary
    c.dim = 256, c.layers = 8, c.heads = 8, c.kv_heads = 4, c.ffn = 1024;
  } else if (name == "small") {  // 60.3 M
    c.dim = 512, c.layers = 10, c.heads = 8, c.kv_heads = 4, c.ffn = 1280;
  } else if (name == "medium") {  // 266.9 M
    c.dim = 1024, c.layers = 16, c.heads = 16, c.kv_heads = 8, c.ffn = 3072;
  } else {
    return make_error(Errc::kNotFound, fmt::format("no preset '{}' (tiny, small, medium)", name));
  }
  return c;
}

Status validate_synth(const SynthConfig& c) {
  auto bad = [](std::string what) { return make_error(Errc::kInvalidArgument, "synthetic model: " + what); };
  if (c.dim == 0 || c.layers == 0 || c.heads == 0 || c.kv_heads == 0 || c.ffn == 0)
    return bad("dim, layers, heads, kv-heads and ffn must all be > 0");
  if (c.dim % c.heads != 0) return bad(fmt::format("dim ({}) must be a multiple of heads ({})", c.dim, c.heads));
  if (c.heads % c.kv_heads != 0)
    return bad(fmt::format("heads ({}) must be a multiple of kv-heads ({})", c.heads, c.kv_heads));
  if ((c.dim / c.heads) % 2 != 0) return bad("the head dimension (dim / heads) must be even for rotary positions");
  const std::int64_t block = ggml_blck_size(to_ggml(c.type));
  if (c.dim % static_cast<std::uint64_t>(block) != 0 || c.ffn % static_cast<std::uint64_t>(block) != 0)
    return bad(fmt::format("dim and ffn must be multiples of {} for {}", block, weight_type_name(c.type)));
  if (c.context_length == 0) return bad("context length must be > 0");
  if (c.vocab_path.empty()) return bad("no vocabulary file given");
  return {};
}

Result<ModelInfo> write_synthetic_gguf(const SynthConfig& c, const std::string& out_path) {
  if (auto st = validate_synth(c); !st) return st.error();
  detail::quiet_ggml_log();

  // The tokenizer: every tokenizer.* key of the vocabulary file.
  std::unique_ptr<std::FILE, FileCloser> vf(std::fopen(c.vocab_path.c_str(), "rb"));
  if (!vf) return errno_error(errno, "vocabulary " + c.vocab_path);
  detail::take_ggml_error();
  std::unique_ptr<gguf_context, GgufDeleter> vocab(gguf_init_from_file_ptr(vf.get(), {true, nullptr}));
  if (!vocab) {
    return make_error(Errc::kParse, fmt::format("vocabulary {}: not a readable GGUF file: {}", c.vocab_path,
                                                detail::take_ggml_error()));
  }
  const int64_t tokens_id = gguf_find_key(vocab.get(), "tokenizer.ggml.tokens");
  if (tokens_id < 0 || gguf_get_kv_type(vocab.get(), tokens_id) != GGUF_TYPE_ARRAY)
    return make_error(Errc::kParse, fmt::format("vocabulary {}: no tokenizer.ggml.tokens", c.vocab_path));
  const auto vocab_size = static_cast<std::int64_t>(gguf_get_arr_n(vocab.get(), tokens_id));

  std::unique_ptr<gguf_context, GgufDeleter> out(gguf_init_empty());
  gguf_context* g = out.get();
  gguf_set_kv(g, vocab.get());
  for (int64_t i = gguf_get_n_kv(g) - 1; i >= 0; --i) {
    const std::string key = gguf_get_key(g, i);
    if (key.rfind("tokenizer.", 0) != 0) gguf_remove_key(g, key.c_str());
  }
  const auto u32 = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
  gguf_set_val_str(g, "general.architecture", "llama");
  gguf_set_val_str(g, "general.name", c.name.c_str());
  gguf_set_val_str(g, "general.description",
                   "synthetic model with random weights, written by jouleperf model synth; not for text quality");
  gguf_set_val_u32(g, "general.file_type", file_type(c.type));
  gguf_set_val_u32(g, "general.alignment", GGUF_DEFAULT_ALIGNMENT);
  gguf_set_val_u32(g, "llama.context_length", u32(c.context_length));
  gguf_set_val_u32(g, "llama.embedding_length", u32(c.dim));
  gguf_set_val_u32(g, "llama.block_count", u32(c.layers));
  gguf_set_val_u32(g, "llama.feed_forward_length", u32(c.ffn));
  gguf_set_val_u32(g, "llama.attention.head_count", u32(c.heads));
  gguf_set_val_u32(g, "llama.attention.head_count_kv", u32(c.kv_heads));
  gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
  gguf_set_val_u32(g, "llama.rope.dimension_count", u32(c.dim / c.heads));
  gguf_set_val_f32(g, "llama.rope.freq_base", 10000.0f);
  gguf_set_val_u32(g, "llama.vocab_size", u32(static_cast<std::uint64_t>(vocab_size)));
  gguf_set_val_bool(g, "jouleperf.synthetic", true);
  gguf_set_val_u64(g, "jouleperf.synthetic.seed", c.seed);

  const std::vector<TensorPlan> plan = plan_tensors(c, vocab_size);
  ggml_init_params ip{};
  ip.mem_size = ggml_tensor_overhead() * (plan.size() + 1);
  ip.mem_buffer = nullptr;
  ip.no_alloc = true;
  std::unique_ptr<ggml_context, GgmlDeleter> meta(ggml_init(ip));
  if (!meta) return make_error(Errc::kInternal, "ggml_init failed");
  for (const auto& t : plan) {
    ggml_tensor* tensor = t.ne1 > 1 ? ggml_new_tensor_2d(meta.get(), t.type, t.ne0, t.ne1)
                                    : ggml_new_tensor_1d(meta.get(), t.type, t.ne0);
    ggml_set_name(tensor, t.name.c_str());
    gguf_add_tensor(g, tensor);
  }

  // Atomic: a temporary beside out_path, renamed over it only when whole (core/atomic_file.hpp).
  auto file = AtomicFile::create(out_path);
  if (!file) return file.error();
  std::FILE* f = file->file();
  std::vector<std::uint8_t> header(gguf_get_meta_size(g));
  gguf_get_meta_data(g, header.data());
  if (std::fwrite(header.data(), 1, header.size(), f) != header.size())
    return errno_error(errno, "writing " + out_path);
  const std::size_t alignment = gguf_get_alignment(g);
  std::uint64_t offset = 0;
  const std::vector<char> zeros(alignment, 0);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (gguf_get_tensor_offset(g, static_cast<int64_t>(i)) != offset)
      return make_error(Errc::kInternal, "tensor offsets disagree with gguf_add_tensor");
    if (auto st = write_tensor(f, plan[i], c.seed, out_path); !st) return st.error();
    const std::size_t bytes = gguf_get_tensor_size(g, static_cast<int64_t>(i));
    const std::size_t padded = GGML_PAD(bytes, alignment);
    if (padded > bytes && std::fwrite(zeros.data(), 1, padded - bytes, f) != padded - bytes)
      return errno_error(errno, "writing " + out_path);
    offset += padded;
  }
  if (auto st = file->commit(); !st) return st.error();
  return read_gguf_info(out_path);
}

}  // namespace jouleperf
