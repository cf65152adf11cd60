// Golden output of `jouleperf trace stats|bin|synth|workloads` (tests/cli/golden/): a small
// trace the test writes, an embedded workload; console, CSV and JSON (JSON Lines for the
// synthetic requests), the temp path masked (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask;
using testing::run_program;

const std::vector<std::string> kPath = {R"([^ "]*/trace\.csv)"};

std::string small_trace(const testing::TempDir& dir) {
  return dir
      .write("trace.csv",
             "t,in,out\n0,100,20\n0.5,300,60\n1.5,900,8\n2,40,300\n3.5,2500,700\n4,120,40\n6,600,90\n7.5,64,16\n")
      .string();
}

void expect_formats(const std::string& args, const std::string& stem,
                    std::initializer_list<std::pair<const char*, const char*>> formats) {
  for (const auto& [format, ext] : formats) {
    auto r = run_program(JP_CLI_PATH, args + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, stem + ext, mask(r.out, kPath)), "") << format;
  }
}

TEST(GoldenTrace, StatsConsoleCsvJson) {
  testing::TempDir dir;
  expect_formats("trace stats " + small_trace(dir) + " --input-col in --output-col out --time-col t --bucket 2",
                 "trace_stats", {{"console", ".txt"}, {"csv", ".csv"}, {"json", ".json"}});
}

TEST(GoldenTrace, BinConsoleCsvJson) {
  testing::TempDir dir;
  expect_formats("trace bin " + small_trace(dir) +
                     " --input-col in --output-col out --time-col t --input-edges 128,512,1024 --output-edges 32,128 "
                     "--memory-budget 24GB --weights 16GB --kv-bytes-per-token 131072 --decode-ms-per-token 20",
                 "trace_bin", {{"console", ".txt"}, {"csv", ".csv"}, {"json", ".json"}});
}

TEST(GoldenTrace, SynthCsvJsonJsonl) {
  // CSV is synth's default: a workload file.
  auto plain = run_program(JP_CLI_PATH, "trace synth --workload azure-code-2023 -n 6 --seed 3");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "trace_synth.csv", plain.out), "");
  expect_formats("trace synth --workload azure-code-2023 -n 6 --seed 3", "trace_synth",
                 {{"csv", ".csv"}, {"json", ".json"}, {"jsonl", ".jsonl"}, {"console", ".txt"}});
}

TEST(GoldenTrace, WorkloadsConsoleCsvJson) {
  expect_formats("trace workloads", "trace_workloads", {{"console", ".txt"}, {"csv", ".csv"}, {"json", ".json"}});
  // --json is -o json.
  EXPECT_EQ(run_program(JP_CLI_PATH, "trace workloads --json").out,
            run_program(JP_CLI_PATH, "trace workloads -o json").out);
}

}  // namespace
}  // namespace jouleperf
