// Golden output of `jouleperf simulate` (tests/cli/golden/): console, CSV and JSON of a
// seeded simulation, so a change of format is a visible diff (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::run_program;

constexpr const char* kRun =
    "simulate --hardware a6000 --stack vllm --model Llama-3.1-8B --workload azure-code-2023 -n 40 --poisson 2 "
    "--timeline-bins 4";

TEST(GoldenSimulate, ConsoleCsvJsonAndJsonl) {
  for (const auto& [format, file] : {std::pair{"console", "simulate.txt"}, std::pair{"csv", "simulate.csv"},
                                     std::pair{"json", "simulate.json"}, std::pair{"jsonl", "simulate.jsonl"}}) {
    auto r = run_program(JP_CLI_PATH, std::string(kRun) + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, r.out), "");
  }
}

TEST(GoldenSimulate, OneBatchAndTheStacks) {
  auto batch = run_program(JP_CLI_PATH, "simulate --hardware a6000 --batch 8 --input-tokens 128 --output-tokens 64");
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "simulate_batch.txt", batch.out), "");
  auto stacks = run_program(JP_CLI_PATH, "simulate --list-stacks -o csv");
  ASSERT_EQ(stacks.exit_code, 0) << stacks.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "simulate_stacks.csv", stacks.out), "");
}

TEST(GoldenSimulate, TheOldOutputTokensSpellingStillWorks) {
  auto old = run_program(JP_CLI_PATH, "simulate --hardware a6000 --batch 8 --input 128 --output 64");
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "simulate_batch.txt", old.out), "");
  auto bad = run_program(JP_CLI_PATH, "simulate --list-stacks -o yaml");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("console|md|csv|json|jsonl"), std::string::npos) << bad.err;
}

TEST(GoldenSimulate, OutputFileGetsWhatStdoutWouldHave) {
  auto to_stdout = run_program(JP_CLI_PATH, "simulate --list-stacks -o json");
  const std::string path = std::string(JP_BINARY_DIR) + "/golden-simulate-stacks.json";
  auto to_file = run_program(JP_CLI_PATH, "simulate --list-stacks --json --output-file " + path);
  ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_EQ(to_file.out, "");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string text(1 << 20, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  EXPECT_EQ(text, to_stdout.out);
}

}  // namespace
}  // namespace jouleperf
