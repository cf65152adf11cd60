// Parameter counts, bytes and KV-cache sizes of the built-in architectures, checked
// against figures computed by hand from their config.json (and the published totals).
#include "jouleperf/model/info.hpp"

#include <gtest/gtest.h>

#include "jouleperf/model/arch.hpp"

namespace jouleperf {
namespace {

ModelInfo builtin(const char* name) {
  auto a = find_builtin_arch(name);
  EXPECT_TRUE(a.ok()) << name;
  return info_from_arch(*a);
}

TEST(ModelInfo, Llama31_8BByHand) {
  const ModelInfo m = builtin("Llama-3.1-8B");
  // Per layer: q and o 4096*4096 each, k and v 4096*1024 each, three FFN matrices
  // 4096*14336, two RMSNorm vectors of 4096.
  const std::uint64_t layer = 2ull * 4096 * 4096 + 2ull * 4096 * 1024 + 3ull * 4096 * 14336 + 2ull * 4096;
  const std::uint64_t embedding = 128256ull * 4096;
  EXPECT_EQ(layer, 218112000u);
  EXPECT_EQ(m.params_non_embedding, 32 * layer + 4096);
  EXPECT_EQ(m.params_embedding, 2 * embedding);  // untied output head
  EXPECT_EQ(m.params_total, 8030261248u);        // the published 8.03 B
  EXPECT_EQ(m.params_active, m.params_non_embedding);
  EXPECT_EQ(m.weight_bytes, 2 * m.params_total);
  EXPECT_EQ(m.weight_type, "bf16");
  // 2 (K, V) * 32 layers * 8 KV heads * 128 head dim * 2 bytes (f16).
  EXPECT_EQ(m.kv_bytes_per_token, 131072u);
  EXPECT_FALSE(m.synthetic);
}

TEST(ModelInfo, Llama32_1BTiesItsEmbedding) {
  const ModelInfo m = builtin("llama-3.2-1b");  // names match without case
  EXPECT_EQ(m.arch.head_dim, 64u);
  EXPECT_EQ(m.params_embedding, 128256ull * 2048);  // one matrix: tied
  EXPECT_EQ(m.params_total, 1235814400u);           // published: 1.24 B
  EXPECT_EQ(m.kv_bytes_per_token, 2ull * 16 * 8 * 64 * 2);
}

TEST(ModelInfo, Qwen15_32BCountsQkvBias) {
  const ModelInfo m = builtin("Qwen1.5-32B");
  const std::uint64_t layer =
      2ull * 5120 * 5120 + 2ull * 5120 * 1024 + (5120 + 2 * 1024) + 3ull * 5120 * 27392 + 2ull * 5120;
  EXPECT_EQ(m.params_non_embedding, 64 * layer + 5120);
  EXPECT_EQ(m.params_total, 32512218112u);  // published: 32.5 B
}

TEST(ModelInfo, OlmoHasParameterFreeNorms) {
  const ModelInfo m = builtin("OLMo-1B");
  EXPECT_EQ(m.params_non_embedding, 16ull * (4ull * 2048 * 2048 + 3ull * 2048 * 8192));
  EXPECT_EQ(m.params_total, m.params_non_embedding + 50304ull * 2048);  // tied
  const ModelInfo m7 = builtin("OLMo-7B");
  EXPECT_EQ(m7.params_total, 32ull * (4ull * 4096 * 4096 + 3ull * 4096 * 11008) + 2ull * 50304 * 4096);
  EXPECT_NEAR(static_cast<double>(m7.params_total), 6.89e9, 0.01e9);
}

TEST(ModelInfo, OlmoeActiveParametersAreTheRoutedExperts) {
  const ModelInfo m = builtin("OLMoE-1B-7B");
  const std::uint64_t expert = 3ull * 2048 * 1024;
  const std::uint64_t attn = 4ull * 2048 * 2048 + 2048 + 2048;     // + q_norm, k_norm
  const std::uint64_t shared = attn + 2ull * 2048 + 2048ull * 64;  // + norms, router
  EXPECT_EQ(m.params_non_embedding, 16 * (shared + 64 * expert) + 2048);
  EXPECT_EQ(m.params_active, 16 * (shared + 8 * expert) + 2048);
  // The OLMoE paper: 6.9 B total, 1.3 B active (embeddings included).
  EXPECT_NEAR(static_cast<double>(m.params_total), 6.92e9, 0.01e9);
  EXPECT_NEAR(static_cast<double>(m.params_active + m.params_embedding), 1.28e9, 0.01e9);
}

TEST(ModelInfo, Llama31_70BNearPublishedTotal) {
  const ModelInfo m = builtin("Llama-3.1-70B");
  EXPECT_NEAR(static_cast<double>(m.params_total), 70.55e9, 0.01e9);
  EXPECT_EQ(m.kv_bytes_per_token, 2ull * 80 * 8 * 128 * 2);
}

TEST(ModelInfo, EveryBuiltinIsValidAndSourced) {
  ASSERT_GE(builtin_archs().size(), 7u);
  for (const auto& a : builtin_archs()) {
    EXPECT_TRUE(validate_arch(a).ok()) << a.name;
    EXPECT_FALSE(a.source.empty()) << a.name;
  }
}

TEST(ModelInfo, UnknownArchitectureIsNotFoundAndNamesTheKnownOnes) {
  auto r = find_builtin_arch("GPT-5");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find("Llama-3.1-8B"), std::string::npos);
}

TEST(ModelInfo, ValidateRejectsBadShapes) {
  ModelArch a = *find_builtin_arch("Llama-3.1-8B");
  a.kv_heads = 5;  // 32 heads are not a multiple of 5
  EXPECT_EQ(validate_arch(a).error().code, Errc::kInvalidArgument);
  a = *find_builtin_arch("OLMoE-1B-7B");
  a.experts_used = 65;
  EXPECT_FALSE(validate_arch(a).ok());
}

}  // namespace
}  // namespace jouleperf
