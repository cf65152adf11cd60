// Golden output of `jouleperf validate --engine sim` (tests/cli/golden/): console, CSV and
// JSON of the simulated full run of an embedded workload; --json FILE keeps writing the
// artifact, the same document -o json prints.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::run_program;

constexpr const char* kRun =
    "validate --hardware a6000 --stack vllm --model Llama-3.1-8B --workload azure-code-2023 --batches 1,8";

TEST(GoldenValidate, ConsoleCsvAndJson) {
  for (const auto& [format, file] :
       {std::pair{"console", "validate.txt"}, std::pair{"csv", "validate.csv"}, std::pair{"json", "validate.json"}}) {
    auto r = run_program(JP_CLI_PATH, std::string(kRun) + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, r.out), "");
  }
}

TEST(GoldenValidate, JsonFileIsTheArtifactJsonOutputPrints) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "v.json").string();
  auto r = run_program(JP_CLI_PATH, std::string(kRun) + " --json " + path + " -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream f(path);
  EXPECT_EQ(nlohmann::json::parse(f), nlohmann::json::parse(r.out));
  auto bad = run_program(JP_CLI_PATH, "validate --hardware a6000 --engine llamacpp --workload azure-code-2023");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

}  // namespace
}  // namespace jouleperf
