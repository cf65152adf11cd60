// A synthesized model loads in llama.cpp itself, which agrees with `model info` about
// what it holds, and computes finite logits.
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>
#include <memory>

#include "jouleperf/model/synth.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

void quiet(ggml_log_level, const char*, void*) {}

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};

TEST(SynthLoad, TinyPresetLoadsAndRunsInLlamaCpp) {
  llama_log_set(quiet, nullptr);
  testing::TempDir dir;
  const auto path = (dir.path() / "tiny.gguf").string();
  auto cfg = synth_preset("tiny");
  ASSERT_TRUE(cfg.ok());
  cfg->type = WeightType::kQ8_0;
  auto info = write_synthetic_gguf(*cfg, path);
  ASSERT_TRUE(info.ok()) << info.error().to_string();

  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  std::unique_ptr<llama_model, ModelFree> model(llama_model_load_from_file(path.c_str(), mp));
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(llama_model_n_params(model.get()), info->params_total);
  EXPECT_EQ(llama_model_n_embd(model.get()), 256);
  EXPECT_EQ(llama_model_n_layer(model.get()), 8);
  EXPECT_EQ(llama_model_n_head(model.get()), 8);
  EXPECT_EQ(llama_model_n_head_kv(model.get()), 4);
  EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(model.get())), 32000);
  char buf[16] = {};
  ASSERT_GT(llama_model_meta_val_str(model.get(), "jouleperf.synthetic", buf, sizeof buf), 0);
  EXPECT_STREQ(buf, "true");

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 64;
  cp.n_batch = 16;
  cp.n_threads = 1;
  cp.n_threads_batch = 1;
  std::unique_ptr<llama_context, ContextFree> ctx(llama_init_from_model(model.get(), cp));
  ASSERT_NE(ctx, nullptr);
  llama_token tokens[4] = {1, 100, 200, 300};
  ASSERT_EQ(llama_decode(ctx.get(), llama_batch_get_one(tokens, 4)), 0);
  const float* logits = llama_get_logits_ith(ctx.get(), -1);
  ASSERT_NE(logits, nullptr);
  float spread = 0.0f;
  for (int i = 0; i < 32000; ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << i;
    spread = std::max(spread, std::fabs(logits[i] - logits[0]));
  }
  EXPECT_GT(spread, 0.0f);  // random weights still give a non-constant distribution
  ctx.reset();
  model.reset();
  llama_backend_free();
}

}  // namespace
}  // namespace jouleperf
