// Golden output of `jouleperf fidelity` (tests/cli/golden/): console, CSV and JSON of the
// built-in vllm stack against the ML.ENERGY file in the shared data (skipped when absent).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/golden.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask;
using testing::run_program;

std::string ml_energy() { return std::string(JP_SHARED_DATA_DIR) + "/mlenergy_v3_llama-3.1-8b_h100.csv"; }

TEST(GoldenFidelity, ConsoleCsvAndJson) {
  if (!std::filesystem::exists(ml_energy())) GTEST_SKIP() << "no " << ml_energy();
  for (const auto& [format, file] :
       {std::pair{"console", "fidelity.txt"}, std::pair{"csv", "fidelity.csv"}, std::pair{"json", "fidelity.json"}}) {
    auto r = run_program(JP_CLI_PATH, "fidelity --measurements " + ml_energy() + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask(r.out, {R"([^" ]*/(?=mlenergy_v3))"})), "");
  }
}

TEST(GoldenFidelity, JsonSwitchAndOutputFile) {
  if (!std::filesystem::exists(ml_energy())) GTEST_SKIP() << "no " << ml_energy();
  auto a = run_program(JP_CLI_PATH, "fidelity --json --measurements " + ml_energy());
  auto b = run_program(JP_CLI_PATH, "fidelity -o json --measurements " + ml_energy());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  auto bad = run_program(JP_CLI_PATH, "fidelity -o yaml --measurements " + ml_energy());
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace jouleperf
