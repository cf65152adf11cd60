// Synthetic GGUF models written through ggml's gguf API and read back: what the file
// holds must agree with the formula for the same architecture, say that it is
// synthetic, and be reproducible from its seed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "jouleperf/model/synth.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

SynthConfig small_shape(WeightType type = WeightType::kF16, std::uint64_t seed = 7) {
  SynthConfig c;
  c.name = "unit";
  c.dim = 64;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = 2;
  c.ffn = 128;
  c.type = type;
  c.seed = seed;
  c.vocab_path = default_vocab_path();
  return c;
}

// The same shape as a built-in-style architecture, counted by formula.
ModelInfo by_formula(const SynthConfig& c) {
  ModelArch a;
  a.name = c.name;
  a.family = "llama";
  a.vocab = 32000;
  a.dim = c.dim;
  a.layers = c.layers;
  a.heads = c.heads;
  a.kv_heads = c.kv_heads;
  a.head_dim = c.dim / c.heads;
  a.ffn = c.ffn;
  return info_from_arch(a);
}

std::string slurp(const std::filesystem::path& p) {
  std::stringstream s;
  s << std::ifstream(p, std::ios::binary).rdbuf();
  return s.str();
}

TEST(Gguf, VocabularyShipsWithTheBuild) { ASSERT_TRUE(std::filesystem::exists(default_vocab_path())); }

TEST(Gguf, SynthRoundTripsThroughInfo) {
  testing::TempDir dir;
  const auto path = (dir.path() / "m.gguf").string();
  const SynthConfig c = small_shape();
  auto written = write_synthetic_gguf(c, path);
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  auto read = read_gguf_info(path);
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  const ModelInfo expect = by_formula(c);
  EXPECT_EQ(read->params_total, expect.params_total);
  EXPECT_EQ(read->params_embedding, expect.params_embedding);
  EXPECT_EQ(read->params_non_embedding, expect.params_non_embedding);
  EXPECT_EQ(read->kv_bytes_per_token, 2u * 2 * 2 * 16 * 2);  // K,V * layers * kv heads * head dim * f16
  EXPECT_EQ(read->kv_bytes_per_token, expect.kv_bytes_per_token);
  EXPECT_EQ(read->arch.family, "llama");
  EXPECT_EQ(read->arch.name, "unit");
  EXPECT_EQ(read->arch.vocab, 32000u);
  EXPECT_EQ(read->arch.dim, 64u);
  EXPECT_EQ(read->arch.layers, 2u);
  EXPECT_EQ(read->arch.heads, 4u);
  EXPECT_EQ(read->arch.kv_heads, 2u);
  EXPECT_EQ(read->arch.ffn, 128u);
  EXPECT_FALSE(read->arch.tied_embeddings);
  EXPECT_TRUE(read->synthetic);
  EXPECT_EQ(read->synthetic_seed, 7u);
  EXPECT_EQ(read->weight_type, "f16");  // the matrices; norm vectors stay f32
  // f16 matrices plus f32 norm vectors (2 per layer and the final one).
  const std::uint64_t norms = (2 * c.layers + 1) * c.dim;
  EXPECT_EQ(read->weight_bytes, 2 * (read->params_total - norms) + 4 * norms);
  EXPECT_GT(std::filesystem::file_size(path), read->weight_bytes);
  EXPECT_EQ(written->params_total, read->params_total);
}

TEST(Gguf, SameSeedSameFileOtherSeedOtherWeights) {
  testing::TempDir dir;
  const auto a = dir.path() / "a.gguf", b = dir.path() / "b.gguf", c = dir.path() / "c.gguf";
  ASSERT_TRUE(write_synthetic_gguf(small_shape(WeightType::kQ8_0, 1), a.string()).ok());
  ASSERT_TRUE(write_synthetic_gguf(small_shape(WeightType::kQ8_0, 1), b.string()).ok());
  ASSERT_TRUE(write_synthetic_gguf(small_shape(WeightType::kQ8_0, 2), c.string()).ok());
  const std::string sa = slurp(a), sb = slurp(b), sc = slurp(c);
  EXPECT_EQ(sa, sb);
  ASSERT_EQ(sa.size(), sc.size());
  // Only the seed key and the weights differ.
  std::size_t differing = 0;
  for (std::size_t i = 0; i < sa.size(); ++i) differing += sa[i] != sc[i];
  EXPECT_GT(differing, sa.size() / 4);
}

TEST(Gguf, QuantizedTypesHaveTheirBlockSizes) {
  testing::TempDir dir;
  for (auto [type, bytes_per_32] :
       {std::pair{WeightType::kQ8_0, 34u}, std::pair{WeightType::kQ4_0, 18u}, std::pair{WeightType::kF32, 128u}}) {
    const auto path = (dir.path() / "q.gguf").string();
    const SynthConfig c = small_shape(type);
    auto info = write_synthetic_gguf(c, path);
    ASSERT_TRUE(info.ok()) << info.error().to_string();
    const std::uint64_t norms = (2 * c.layers + 1) * c.dim;
    EXPECT_EQ(info->weight_bytes, (info->params_total - norms) / 32 * bytes_per_32 + 4 * norms)
        << weight_type_name(type);
  }
}

TEST(Gguf, PresetsHaveTheAdvertisedSizes) {
  // Counted by formula for the presets' shapes with the 32000-token vocabulary.
  const std::pair<const char*, double> presets[] = {{"tiny", 25e6}, {"small", 60e6}, {"medium", 270e6}};
  for (const auto& [name, params] : presets) {
    auto c = synth_preset(name);
    ASSERT_TRUE(c.ok()) << name;
    EXPECT_TRUE(validate_synth(*c).ok()) << name;
    EXPECT_NEAR(static_cast<double>(by_formula(*c).params_total), params, 0.05 * params) << name;
  }
  EXPECT_EQ(synth_preset("huge").error().code, Errc::kNotFound);
}

TEST(Gguf, BadShapesAreRejectedBeforeWriting) {
  testing::TempDir dir;
  const auto path = (dir.path() / "bad.gguf").string();
  SynthConfig c = small_shape();
  c.heads = 5;  // 64 is not a multiple of 5
  EXPECT_EQ(write_synthetic_gguf(c, path).error().code, Errc::kInvalidArgument);
  c = small_shape(WeightType::kQ4_0);
  c.ffn = 100;  // not a multiple of the 32-value block
  EXPECT_EQ(write_synthetic_gguf(c, path).error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Gguf, MissingAndMalformedFilesAreDistinctErrors) {
  testing::TempDir dir;
  EXPECT_EQ(read_gguf_info((dir.path() / "absent.gguf").string()).error().code, Errc::kNotFound);
  const auto text = dir.write("text.gguf", "this is not a gguf file at all\n");
  auto r = read_gguf_info(text.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kParse);
  // A real file cut short in its header.
  const auto full = dir.path() / "full.gguf";
  ASSERT_TRUE(write_synthetic_gguf(small_shape(), full.string()).ok());
  const std::string bytes = slurp(full);
  const auto cut = dir.write("cut.gguf", bytes.substr(0, 200));
  EXPECT_EQ(read_gguf_info(cut.string()).error().code, Errc::kParse);
  SynthConfig c = small_shape();
  c.vocab_path = text.string();
  EXPECT_EQ(write_synthetic_gguf(c, (dir.path() / "x.gguf").string()).error().code, Errc::kParse);
}

TEST(Gguf, OutputInAMissingDirectoryIsNotFound) {
  auto r = write_synthetic_gguf(small_shape(), "/nonexistent-dir/x.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace jouleperf
