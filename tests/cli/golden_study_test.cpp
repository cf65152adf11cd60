// Golden output of `jouleperf study FILE` (tests/cli/golden/): console, CSV and JSON of a
// study file whose one config is simulated (no sensor, no model file), into an output
// directory made in the test. Durations, times and temp paths are masked.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::literal;
using testing::mask;
using testing::run_program;

constexpr const char* kStudy =
    "name: golden\nconfigs:\n  - name: eager\n    engine: sim\n    model: Llama-3.2-1B\n    baseline: true\n"
    "    settings: {hardware: h100-sxm, stack: hf-eager}\n  - name: vllm\n    engine: sim\n    model: Llama-3.2-1B\n"
    "    settings: {hardware: h100-sxm, stack: vllm}\n"
    "inputs: [128, 1024]\noutputs: [32, 256]\nbatches: [1, 8]\nwarmup: 0\nrepetitions: 1\n";

std::string masked(const std::string& text, const std::string& dir) {
  return mask(text, {literal(dir) + "[^ \",\\r\\n]*", R"(study took \d+(m\d+)?s)", R"("[a-z_]*unix_s": ?[0-9.e+-]+)",
                     R"("elapsed_s": ?[0-9.e+-]+)"});
}

TEST(GoldenStudy, ConsoleCsvAndJsonOfASimulatedStudyFile) {
  testing::TempDir dir;
  const std::string study = dir.write("golden.yaml", kStudy).string();
  for (const auto& [format, file] :
       {std::pair{"console", "study.txt"}, std::pair{"csv", "study.csv"}, std::pair{"json", "study.json"}}) {
    const std::string out = (dir.path() / format).string();
    auto r = run_program(JP_CLI_PATH, "study " + study + " --out " + out + " --no-progress -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, masked(r.out, dir.path().string())), "");
    if (std::string_view(format) == "json") {
      const auto j = nlohmann::json::parse(r.out);
      EXPECT_EQ(j.at("study"), "golden");
      EXPECT_EQ(j.at("estimates").size(), 2u);
    }
  }
}

TEST(GoldenStudy, BothProgressSpellingsAreAccepted) {
  testing::TempDir dir;
  const std::string study = dir.write("golden.yaml", kStudy).string();
  for (const char* flag : {"--progress", "--progress-bar", "--no-progress"}) {
    auto r = run_program(JP_CLI_PATH, "study " + study + " --out " + (dir.path() / "o").string() + " " + flag +
                                          " -o csv --output-file " + (dir.path() / "o.csv").string());
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.err;
    EXPECT_EQ(r.out, "");
  }
}

}  // namespace
}  // namespace jouleperf
