// `jouleperf optimize --engine llamacpp` end to end on two tiny synthetic models and a
// tiny Azure-format trace: the simulator plans every candidate, the top K and the baseline
// are measured into the store, each measured config carries its SIMULATED prediction and
// its measured (here ESTIMATED) energy with the sensor source, and a rerun on the same
// store measures nothing new.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

struct Run {
  std::string out;
  int exit_code = -1;
};

Run run(const std::string& args, bool with_stderr = false) {
  Run r;
  FILE* p = popen((std::string(JP_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// 24 requests, inputs 10..60 and outputs 2..8 tokens, a tenth of a second apart.
std::string tiny_trace() {
  std::string csv = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  for (int k = 0; k < 24; ++k) {
    const int input = 10 + (k * 7) % 51;
    const int output = 2 + (k * 5) % 7;
    csv += "2023-11-16 18:15:" + std::to_string(10 + k / 10) + "." + std::to_string(k % 10) + "000000," +
           std::to_string(input) + "," + std::to_string(output) + "\n";
  }
  return csv;
}

TEST(OptimizeMeasuredCli, PlansMeasuresTopKAndResumes) {
  testing::TempDir dir;
  const std::string f32 = (dir.path() / "tiny-f32.gguf").string();
  const std::string q8 = (dir.path() / "tiny-q8_0.gguf").string();
  for (const auto& [path, type] : {std::pair{f32, "f32"}, std::pair{q8, "q8_0"}}) {
    auto s = run("model synth --preset tiny --context 512 --type " + std::string(type) + " -o " + path);
    ASSERT_EQ(s.exit_code, 0) << s.out;
  }
  const std::string trace = dir.write("tiny.csv", tiny_trace()).string();
  const std::string store = (dir.path() / "opt.db").string();
  const std::string args = "optimize --engine llamacpp --models " + f32 + "," + q8 +
                           " --cpu-threads 1 --max-batch 1,4 --batching static,continuous --trace " + trace +
                           " --input-edges 32,64 --output-edges 4,8 --scale-input 2 --top-k 2 --reps 1 --warmup 1 "
                           "--sensor cpu-model --store " +
                           store + " --json";
  auto r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["mode"], "measured");
  EXPECT_EQ(j["candidates"].size(), 8u);  // 2 models x 1 thread count x 2 batches x 2 modes
  EXPECT_EQ(j["workload"]["requests"], 24u);
  const auto& cmp = j["comparison"];
  ASSERT_EQ(cmp["configs"].size(), 3u) << "K = 2 plus the baseline";
  std::set<std::string> names;
  std::size_t baselines = 0;
  for (const auto& c : cmp["configs"]) {
    names.insert(c["name"].get<std::string>());
    baselines += c["baseline"].get<bool>() ? 1 : 0;
    EXPECT_EQ(c["predicted"]["source"], "simulated");
    EXPECT_GT(c["predicted"]["energy_j"].get<double>(), 0.0);
    ASSERT_TRUE(c["measured"].is_object()) << c.dump();
    EXPECT_GT(c["measured"]["energy_j"].get<double>(), 0.0);
    EXPECT_EQ(c["measured"]["source"], "cpu-time-model");
    EXPECT_EQ(c["measured"]["label"], "ESTIMATED");
    EXPECT_TRUE(c["measured_rank"].is_number());
  }
  EXPECT_EQ(baselines, 1u);
  EXPECT_TRUE(names.count("tiny-f32-t1-b1-static")) << "the default baseline";
  ASSERT_TRUE(cmp["measured_best"].is_string());
  EXPECT_TRUE(names.count(cmp["measured_best"].get<std::string>()));
  EXPECT_TRUE(cmp["best_saving_pct"].is_number());
  const std::size_t cells = j["sweep"]["cells"].get<std::size_t>();
  EXPECT_GT(cells, 0u);
  EXPECT_EQ(j["sweep"]["measured"].get<std::size_t>() + j["sweep"]["skipped"].get<std::size_t>(), cells);

  // The same command again: every cell is already in the store.
  auto again = run(args);
  ASSERT_EQ(again.exit_code, 0) << again.out;
  const auto j2 = nlohmann::json::parse(again.out);
  EXPECT_EQ(j2["sweep"]["measured"].get<std::size_t>(), 0u);
  EXPECT_EQ(j2["sweep"]["resumed"].get<std::size_t>(), cells);
  EXPECT_EQ(j2["comparison"]["configs"].size(), 3u);

  // A model file that does not exist is named.
  auto bad = run("optimize --engine llamacpp --models " + (dir.path() / "absent.gguf").string() + " --trace " + trace +
                     " --store " + store,
                 true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("absent.gguf"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace jouleperf
