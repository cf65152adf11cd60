// Golden output of `jouleperf sweep` and `jouleperf merge` (tests/cli/golden/): console,
// CSV, JSON and JSON Lines of a small simulated grid into a store made in the test, so a
// change of format is a visible diff (JP_UPDATE_GOLDEN=1 rewrites). Durations and temp
// paths are masked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::literal;
using testing::mask;
using testing::run_program;

constexpr const char* kGrid =
    "sweep --engine sim --model Llama-3.2-1B --setting hardware=h100-sxm -I 128,512 -B 1,4 --reps 1 --warmup 0 "
    "--no-progress";

std::string masked(const std::string& text, const std::string& dir) {
  return mask(text, {literal(dir) + "[^ \",\\r\\n]*", R"( in \d+(m\d+)?s ->)", R"("elapsed_s": ?[0-9.e+-]+)"});
}

TEST(GoldenSweep, ConsoleCsvJsonAndJsonlRowsOfASimulatedGrid) {
  testing::TempDir dir;
  for (const auto& [format, file] : {std::pair{"console", "sweep.txt"}, std::pair{"csv", "sweep.csv"},
                                     std::pair{"json", "sweep.json"}, std::pair{"jsonl", "sweep.jsonl"}}) {
    const std::string store = (dir.path() / (std::string(format) + ".db")).string();
    auto r = run_program(JP_CLI_PATH, std::string(kGrid) + " -O 16 --store " + store + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, masked(r.out, dir.path().string())), "");
  }
}

TEST(GoldenSweep, TheOldOutputLengthsSpellingAndBothProgressFlagsWork) {
  testing::TempDir dir;
  for (const char* spelling : {"--output 16 --progress-bar", "--output-tokens 16 --no-progress-bar"}) {
    const std::string store = (dir.path() / "s.db").string();
    std::filesystem::remove(store);
    // The old spelling takes the place of -o: console output.
    auto r = run_program(JP_CLI_PATH, std::string(kGrid) + " " + spelling + " --store " + store);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "sweep.txt", masked(r.out, dir.path().string())), "") << spelling;
  }
  auto bad = run_program(JP_CLI_PATH, std::string(kGrid) + " --store " + (dir.path() / "t.db").string() + " -o yaml");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("console|md|csv|json|jsonl"), std::string::npos) << bad.err;
}

TEST(GoldenSweep, RowsStreamAsEachCellIsStored) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "rows.jsonl").string();
  auto r = run_program(JP_CLI_PATH, std::string(kGrid) + " -O 16 --store " + (dir.path() / "s.db").string() +
                                        " -o jsonl --output-file " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::ifstream f(out);
  std::string line;
  std::size_t rows = 0;
  while (std::getline(f, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("status"), "done") << line;
    ++rows;
  }
  EXPECT_EQ(rows, 4u);
}

TEST(GoldenMerge, ConsoleCsvAndJsonOfTwoShards) {
  testing::TempDir dir;
  const std::string d = dir.path().string();
  for (const char* shard : {"0/2", "1/2"}) {
    const std::string store = d + "/shard" + std::string(1, shard[0]) + ".db";
    auto r = run_program(JP_CLI_PATH, std::string(kGrid) + " -O 16 --shard " + shard + " --store " + store);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const auto& [format, file] :
       {std::pair{"console", "merge.txt"}, std::pair{"csv", "merge.csv"}, std::pair{"json", "merge.json"}}) {
    const std::string merged = d + "/merged-" + format + ".db";
    auto r = run_program(JP_CLI_PATH, "merge " + merged + " " + d + "/shard0.db " + d + "/shard1.db -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, masked(r.out, d)), "");
  }
  auto missing = run_program(JP_CLI_PATH, "merge " + d + "/m.db " + d + "/none.db");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

// `--shard auto` inside a scheduler's array (here its environment, set as Slurm and a
// Kubernetes Indexed Job set it) with a store per shard: the two shards' stores merge
// into what the explicit --shard i/n runs give (the golden merge above).
TEST(SweepShardAuto, ShardsFromTheSchedulersEnvironmentMergeIntoTheWholeGrid) {
  testing::TempDir dir;
  const std::string d = dir.path().string();
  const std::string grid = std::string(kGrid) + " -O 16 --shard auto --store '" + d + "/r-{shard}-of-{count}.db'";
  auto slurm = run_program(
      "SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=2 " + std::string(JP_CLI_PATH), grid);
  ASSERT_EQ(slurm.exit_code, 0) << slurm.err;
  EXPECT_NE(slurm.err.find("Slurm array task 5"), std::string::npos) << slurm.err;
  auto k8s = run_program("JOB_COMPLETION_INDEX=0 " + std::string(JP_CLI_PATH), grid + " --shard-count 2");
  ASSERT_EQ(k8s.exit_code, 0) << k8s.err;
  EXPECT_NE(k8s.err.find("JOB_COMPLETION_INDEX=0"), std::string::npos) << k8s.err;
  auto merged = run_program(JP_CLI_PATH, "merge " + d + "/m.db " + d + "/r-0-of-2.db " + d + "/r-1-of-2.db -o csv");
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "merge.csv", masked(merged.out, d)), "");
  // Outside a scheduler: a usage error naming the variables, and no store written.
  auto outside = run_program("env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX " + std::string(JP_CLI_PATH),
                             std::string(kGrid) + " --shard auto --store " + d + "/none-{shard}.db");
  EXPECT_EQ(outside.exit_code, 2) << outside.err;
  EXPECT_NE(outside.err.find("SLURM_ARRAY_TASK_ID"), std::string::npos) << outside.err;
  EXPECT_FALSE(std::filesystem::exists(d + "/none-0.db"));
}

}  // namespace
}  // namespace jouleperf
