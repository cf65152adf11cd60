// Golden output of `jouleperf optimize` (tests/cli/golden/): console, CSV and JSON of a
// small seeded search on the simulator (JP_UPDATE_GOLDEN=1 rewrites). The search's wall
// time is masked.
#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask;
using testing::run_program;

constexpr const char* kRun =
    "optimize --workload azure-code-2023 -n 60 --poisson 2 --model Llama-3.1-8B --hardware a6000,h100-sxm "
    "--devices 1 --tp 1 --stacks hf-eager,vllm --max-batch 16,64 --decoding greedy --precision bf16 --threads 2 "
    "--top 3";

std::string masked(const std::string& text) { return mask(text, {R"(in [0-9.]+ s on)", R"("wall_s": [0-9.e+-]+)"}); }

TEST(GoldenOptimize, ConsoleCsvAndJson) {
  for (const auto& [format, file] :
       {std::pair{"console", "optimize.txt"}, std::pair{"csv", "optimize.csv"}, std::pair{"json", "optimize.json"}}) {
    auto r = run_program(JP_CLI_PATH, std::string(kRun) + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, masked(r.out)), "");
  }
}

TEST(GoldenOptimize, JsonSwitchIsDashOJson) {
  auto a = run_program(JP_CLI_PATH, std::string(kRun) + " --json");
  auto b = run_program(JP_CLI_PATH, std::string(kRun) + " -o json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(masked(a.out), masked(b.out));
}

TEST(GoldenOptimize, MeasuredModeOptionsNeedTheEngine) {
  auto r = run_program(JP_CLI_PATH, "optimize --workload azure-code-2023 -n 10 --store x.db");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--engine llamacpp"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace jouleperf
