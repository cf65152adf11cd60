// A measurement, not a check (disabled by default; its figures depend on the machine):
// in one process, on the same model file, a raw llama_decode loop shaped like
// llama-batched-bench's alternates with LlamaEngine::run_batch, and the medians of
// their prefill and decode tokens/s are printed. Any cost of the harness around
// llama.cpp shows as a ratio below 1.
//   JP_AB_MODEL=M.gguf JP_AB_RUNS=9 build/tests/test_llama
//     --gtest_also_run_disabled_tests --gtest_filter='*HarnessAB*'
#include <gtest/gtest.h>
#include <llama.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "jouleperf/engine/llamacpp.hpp"
#include "llama/tiny_model.hpp"

namespace jouleperf {
namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void quiet(ggml_log_level, const char*, void*) {}

TEST(LlamaHarnessAB, DISABLED_EngineAgainstARawLoop) {
  const char* env_model = std::getenv("JP_AB_MODEL");
  const std::string path = env_model != nullptr ? env_model : testing::tiny_model();
  const int runs = std::getenv("JP_AB_RUNS") != nullptr ? std::atoi(std::getenv("JP_AB_RUNS")) : 9;
  const int threads = std::getenv("JP_AB_THREADS") != nullptr ? std::atoi(std::getenv("JP_AB_THREADS")) : 1;
  const int I = 128, T = 32;

  LlamaEngineConfig cfg;
  cfg.model_path = path;
  cfg.threads = threads;
  auto engine = open_llamacpp_engine(cfg);
  ASSERT_TRUE(engine.ok()) << engine.error().to_string();
  llama_log_set(quiet, nullptr);
  llama_model* model = llama_model_load_from_file(path.c_str(), llama_model_default_params());
  ASSERT_NE(model, nullptr);
  std::mt19937 rng(1);
  for (int B : {1, 4, 16}) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(B * (I + T + 1));
    cp.n_seq_max = static_cast<uint32_t>(B);
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    llama_context* ctx = llama_init_from_model(model, cp);
    ASSERT_NE(ctx, nullptr);
    llama_batch batch = llama_batch_init(B * I, 0, 1);
    auto add = [&](int pos, int seq, bool logits) {
      const int k = batch.n_tokens++;
      batch.token[k] = static_cast<llama_token>(rng() % 32000);
      batch.pos[k] = pos;
      batch.n_seq_id[k] = 1;
      batch.seq_id[k][0] = seq;
      batch.logits[k] = logits;
    };
    BatchRequest req;
    req.batch = static_cast<std::uint64_t>(B);
    req.input_tokens = I;
    req.output_tokens = T + 1;  // T decode forwards, as llama-batched-bench's -ntg T
    SteadyClock clock;
    std::vector<double> raw_pp, raw_tg, eng_pp, eng_tg;
    for (int r = 0; r <= runs; ++r) {
      batch.n_tokens = 0;
      for (int s = 0; s < B; ++s)
        for (int p = 0; p < I; ++p) add(p, s, p == I - 1);
      llama_memory_clear(llama_get_memory(ctx), false);
      const double t0 = now_s();
      ASSERT_EQ(llama_decode(ctx, batch), 0);
      llama_synchronize(ctx);
      const double t1 = now_s();
      for (int i = 0; i < T; ++i) {
        batch.n_tokens = 0;
        for (int s = 0; s < B; ++s) add(I + i, s, true);
        ASSERT_EQ(llama_decode(ctx, batch), 0);
        llama_synchronize(ctx);
      }
      const double t2 = now_s();
      auto res = (*engine)->run_batch(req, clock, nullptr);
      ASSERT_TRUE(res.ok()) << res.error().to_string();
      if (r == 0) continue;  // warm-up pair
      raw_pp.push_back(B * I / (t1 - t0));
      raw_tg.push_back(B * T / (t2 - t1));
      eng_pp.push_back(B * I / res->prefill_s());
      eng_tg.push_back(B * T / res->decode_s());
    }
    std::printf("B=%2d  prefill raw %8.1f engine %8.1f ratio %.3f | decode raw %7.2f engine %7.2f ratio %.3f\n", B,
                median(raw_pp), median(eng_pp), median(eng_pp) / median(raw_pp), median(raw_tg), median(eng_tg),
                median(eng_tg) / median(raw_tg));
    llama_batch_free(batch);
    llama_free(ctx);
  }
  llama_model_free(model);
}

}  // namespace
}  // namespace jouleperf
