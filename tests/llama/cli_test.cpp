// `jouleperf model` and `jouleperf run` as a user runs them, on a synthetic model.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "llama/tiny_model.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;
};

// Runs jouleperf with `args` (shell words), stdout captured, stderr discarded.
CliRun cli(const std::string& args) {
  CliRun r;
  FILE* p = popen((std::string(JP_CLI_PATH) + " " + args + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(LlamaCli, ModelInfoOfASyntheticFile) {
  const CliRun r = cli("model info " + testing::tiny_model() + " --json -I 64 -O 16");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["synthetic"], true);
  EXPECT_EQ(j["arch"]["layers"], 8);
  EXPECT_EQ(j["kv_bytes_per_token"], 2 * 8 * 4 * 32 * 2);
  EXPECT_NEAR(j["params_total"].get<double>(), 24.3e6, 0.1e6);
  EXPECT_EQ(j["flops"]["decode_forwards"], 15);
  const CliRun text = cli("model info " + testing::tiny_model());
  EXPECT_NE(text.out.find("SYNTHETIC"), std::string::npos);
}

TEST(LlamaCli, ModelInfoOfABuiltinArchitecture) {
  const CliRun r = cli("model info --arch Llama-3.1-8B --json");
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["params_total"], 8030261248ull);
  EXPECT_EQ(j["kv_bytes_per_token"], 131072);
  EXPECT_EQ(j["synthetic"], false);
  EXPECT_EQ(cli("model info --arch Nope").exit_code, 2);
  EXPECT_EQ(cli("model info").exit_code, 2);
  EXPECT_EQ(cli("model info /nonexistent.gguf").exit_code, 1);
}

TEST(LlamaCli, ModelSynthWritesALoadableFile) {
  testing::TempDir dir;
  const auto out = (dir.path() / "s.gguf").string();
  const CliRun r = cli("model synth --dim 64 --layers 2 --heads 4 --ffn 128 --type q4_0 --seed 3 --json -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["synthetic_seed"], 3);
  EXPECT_EQ(j["arch"]["kv_heads"], 4);  // defaults to --heads without a preset
  EXPECT_EQ(j["weight_type"], "q4_0");
  const CliRun run = cli("run --model " + out + " -I 4 -O 2 --threads 1 --warmup 0 --json");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(cli("model synth --dim 64 -o " + out).exit_code, 2);  // incomplete shape
}

TEST(LlamaCli, RunPrintsTheDocumentedJson) {
  const CliRun r = cli("run --engine llamacpp --model " + testing::tiny_model() +
                       " --input 16 --output 6 --batch 3 --threads 1 --warmup 0 --print-output --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input_tokens"], 48);
  EXPECT_EQ(j["output_tokens"], 18);
  EXPECT_EQ(j["batch"], 3);
  EXPECT_EQ(j["synthetic_model"], true);
  for (const char* k : {"prefill_s", "decode_s", "prefill_tokens_per_s", "decode_tokens_per_s", "energy_j",
                        "prefill_energy_j", "decode_energy_j"}) {
    ASSERT_TRUE(j[k].is_number()) << k;
    EXPECT_GT(j[k].get<double>(), 0.0) << k;
  }
  EXPECT_TRUE(j["energy_source"].is_string());
  EXPECT_TRUE(j["estimated"].is_boolean());
  ASSERT_EQ(j["requests"].size(), 3u);
  for (const auto& q : j["requests"]) {
    EXPECT_EQ(q["output_tokens"], 6);
    EXPECT_GT(q["ttft_s"].get<double>(), 0.0);
    EXPECT_GE(q["e2e_s"].get<double>(), q["ttft_s"].get<double>());
    EXPECT_TRUE(q["text"].is_string());
  }
  EXPECT_EQ(j["measurement"]["phases"].size(), 2u);
}

TEST(LlamaCli, RunBeamAndSpeculative) {
  const std::string m = " --model " + testing::tiny_model() + " --warmup 0 --threads 1 -I 6 -O 7 -B 2 --json";
  const CliRun beam = cli("run --strategy beam --beam-width 3" + m);
  ASSERT_EQ(beam.exit_code, 0) << beam.out;
  const auto jb = nlohmann::json::parse(beam.out);
  EXPECT_EQ(jb["strategy"], "beam");
  EXPECT_EQ(jb["beam_width"], 3);
  EXPECT_EQ(jb["output_tokens"], 14);
  EXPECT_TRUE(jb["draft_acceptance"].is_null());
  const CliRun spec = cli("run --strategy speculative --draft-tokens 3 --draft " + testing::tiny_model() + m);
  ASSERT_EQ(spec.exit_code, 0) << spec.out;
  const auto js = nlohmann::json::parse(spec.out);
  EXPECT_EQ(js["strategy"], "speculative");
  EXPECT_EQ(js["draft_tokens"], 3);
  EXPECT_EQ(js["draft_acceptance"], 1.0);  // the draft is the model itself
  EXPECT_EQ(js["output_tokens"], 14);
  EXPECT_EQ(js["decode_forwards"], 2);  // 6 tokens after the first: 4, then 2
  const CliRun forced = cli("run --strategy speculative --accept-rate 0 --draft " + testing::tiny_model() +
                            " --model " + testing::tiny_model() + " --warmup 0 --threads 1 -I 6 -O 7");
  ASSERT_EQ(forced.exit_code, 0) << forced.out;
  EXPECT_NE(forced.out.find("draft acceptance: 0.000 (FORCED"), std::string::npos) << forced.out;
}

TEST(LlamaCli, RunUsageErrors) {
  const std::string m = " --model " + testing::tiny_model() + " --warmup 0 --threads 1";
  EXPECT_EQ(cli("run --engine vllm" + m).exit_code, 2);
  EXPECT_EQ(cli("run --strategy speculative" + m).exit_code, 2);            // no --draft
  EXPECT_EQ(cli("run --draft " + testing::tiny_model() + m).exit_code, 2);  // --draft without speculative
  EXPECT_EQ(cli("run --strategy beam --beam-width 0" + m).exit_code, 2);
  EXPECT_EQ(cli("run --strategy speculative --accept-rate 1.5 --draft " + testing::tiny_model() + m).exit_code, 2);
  EXPECT_EQ(cli("run --strategy nucleus" + m).exit_code, 2);
  EXPECT_EQ(cli("run --input 0" + m).exit_code, 2);
  EXPECT_EQ(cli("run --input 400 --output 200" + m).exit_code, 2);  // beyond the 512-token context
  EXPECT_EQ(cli("run --model /nonexistent.gguf").exit_code, 1);
}

TEST(LlamaCli, ReplayServesInProcessWithOfflineComparison) {
  const CliRun r = cli("replay --engine llamacpp --model " + testing::tiny_model() +
                       " --poisson 200 --requests 6 --input 8 --output 4 --max-batch 2 --threads 1 --warmup 0"
                       " --idle-power 1 --offline-compare --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["engine"], "llamacpp");
  EXPECT_TRUE(j["url"].is_null());
  EXPECT_EQ(j["batching"], "continuous");
  EXPECT_EQ(j["max_batch"], 2);
  EXPECT_EQ(j["requests"], 6);
  EXPECT_EQ(j["ok"], 6);
  EXPECT_EQ(j["mismatched"], 0);
  EXPECT_EQ(j["output_tokens"], 24);
  EXPECT_EQ(j["input_tokens"], 48);
  EXPECT_LE(j["peak_batch"].get<int>(), 2);
  EXPECT_EQ(j["synthetic_model"], true);
  for (const char* k : {"energy_j", "energy_per_request_j", "energy_per_output_token_j", "duration_s"}) {
    ASSERT_TRUE(j[k].is_number()) << k;
    EXPECT_GT(j[k].get<double>(), 0.0) << k;
  }
  EXPECT_TRUE(j["above_idle_j"].is_number());
  EXPECT_TRUE(j["estimated"].is_boolean());
  ASSERT_EQ(j["per_request"].size(), 6u);
  for (const auto& q : j["per_request"]) {
    EXPECT_EQ(q["output_tokens"], 4);
    EXPECT_GE(q["queue_s"].get<double>(), 0.0);
    EXPECT_GE(q["e2e_s"].get<double>(), q["ttft_s"].get<double>());
  }
  EXPECT_EQ(j["e2e_s"]["n"], 6);
  const auto& off = j["offline"];
  EXPECT_EQ(off["batching"], "static");
  EXPECT_GT(off["energy_j"].get<double>(), 0.0);
  EXPECT_EQ(off["e2e_s"]["n"], 6);
  // Offline: three batches of two, 4 tokens each = 12 forwards (prefill included).
  EXPECT_EQ(off["forwards"], 12);
}

// White-box energy per request: llama.cpp's own steps (who was in each forward) split the
// measured slices; the black-box split of the same slices is compared beside it.
TEST(LlamaCli, ReplayAttributesEnergyWhiteBoxFromTheEnginesSteps) {
  const CliRun r = cli("replay --engine llamacpp --model " + testing::tiny_model() +
                       " --poisson 100 --requests 8 --input 16 --output 8 --max-batch 4 --threads 1 --warmup 0"
                       " --idle-power 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto& a = j["attribution"];
  ASSERT_TRUE(a.is_object()) << j.dump();
  EXPECT_EQ(a["method"], "white-box");
  EXPECT_NE(a["cost_model"].get<std::string>().find("FLOPs per token"), std::string::npos) << a.dump();
  const double total = a["total_j"].get<double>();
  EXPECT_NEAR(total, j["energy_j"].get<double>(), 1e-9 * total);
  EXPECT_NEAR(a["attributed_j"].get<double>() + a["unattributed_idle_j"].get<double>(), total, 1e-9 * total);
  ASSERT_TRUE(a["black_box_vs_white_box"].is_object()) << a.dump();
  EXPECT_EQ(a["black_box_vs_white_box"]["n"], 8);
  EXPECT_GE(a["black_box_vs_white_box"]["median_abs_rel"].get<double>(), 0.0);
  double sum = 0;
  for (const auto& q : j["per_request"]) {
    ASSERT_TRUE(q["energy_j"].is_number()) << q.dump();
    EXPECT_GT(q["energy_j"].get<double>(), 0.0);
    sum += q["energy_j"].get<double>();
  }
  EXPECT_NEAR(sum, a["attributed_j"].get<double>(), 1e-9 * total);
}

TEST(LlamaCli, ReplayLlamacppUsageErrors) {
  const std::string m = " --model " + testing::tiny_model() + " --warmup 0 --threads 1 --poisson 10 -n 2 -O 2";
  EXPECT_EQ(cli("replay --engine llamacpp --poisson 10 -n 2").exit_code, 2);  // no model
  EXPECT_EQ(cli("replay --engine llamacpp --batching dynamic -I 4" + m).exit_code, 2);
  EXPECT_EQ(cli("replay --engine llamacpp -I 600" + m).exit_code, 2);  // beyond the 512-token context
  EXPECT_EQ(cli("replay --engine openai --poisson 10 -n 2 --offline-compare --url http://127.0.0.1:9").exit_code, 2);
  EXPECT_EQ(cli("replay --engine openai --poisson 10 -n 2").exit_code, 2);  // no URL
  EXPECT_EQ(cli("replay --engine llamacpp --batching static -I 4" + m).exit_code, 0);
}

}  // namespace
}  // namespace jouleperf
