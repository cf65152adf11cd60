// Golden output of `jouleperf model info` (tests/cli/golden/): console, CSV and JSON of a
// built-in architecture; the old `--output N` (generated tokens) and `model synth -o FILE`
// spellings still work (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::run_program;

constexpr const char* kInfo = "model info --arch Llama-3.1-8B -I 64 -O 16";

TEST(GoldenModel, InfoConsoleCsvJson) {
  for (const auto& [format, file] : {std::pair{"console", "model_info.txt"}, std::pair{"csv", "model_info.csv"},
                                     std::pair{"json", "model_info.json"}}) {
    auto r = run_program(JP_CLI_PATH, std::string(kInfo) + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, r.out), "");
  }
}

TEST(GoldenModel, SynthConsoleCsvJson) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "m.gguf").string();
  const std::vector<std::string> path = {R"([^ ",]*/m\.gguf)"};
  for (const auto& [format, file] : {std::pair{"console", "model_synth.txt"}, std::pair{"csv", "model_synth.csv"},
                                     std::pair{"json", "model_synth.json"}}) {
    auto r =
        run_program(JP_CLI_PATH, "model synth --dim 64 --layers 2 --heads 4 --ffn 128 --type q4_0 --seed 3 --out " +
                                     out + " -o " + format);
    if (r.exit_code == 1 && r.err.find("vocabulary") != std::string::npos)
      GTEST_SKIP() << "no vocabulary GGUF here (scripts/build_llama.sh): " << r.err;
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, testing::mask(r.out, path)), "") << format;
  }
}

TEST(GoldenModel, TheOldSpellingsStillWork) {
  // --output N was the generated tokens: the same as -O N / --output-tokens N.
  auto old = run_program(JP_CLI_PATH, "model info --arch Llama-3.1-8B -I 64 --output 16");
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "model_info.txt", old.out), "");
  auto json = run_program(JP_CLI_PATH, "model info --arch Llama-3.1-8B -I 64 --output-tokens 16 --json");
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "model_info.json", json.out), "");
  EXPECT_EQ(run_program(JP_CLI_PATH, "model info --arch Llama-3.1-8B -o yaml").exit_code, 2);
  // model synth -o FILE: a value that is no format is the output file (here an incomplete
  // shape stops it before writing: the error is about the shape, not the format).
  testing::TempDir dir;
  auto synth = run_program(JP_CLI_PATH, "model synth --dim 64 -o " + (dir.path() / "m.gguf").string());
  EXPECT_EQ(synth.exit_code, 2);
  EXPECT_NE(synth.err.find("synthetic model"), std::string::npos) << synth.err;
  auto no_file = run_program(JP_CLI_PATH, "model synth --preset tiny -o json");
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("--out"), std::string::npos) << no_file.err;
}

}  // namespace
}  // namespace jouleperf
