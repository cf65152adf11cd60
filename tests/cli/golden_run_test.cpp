// Golden output of `jouleperf run` (tests/cli/golden/): console, CSV and JSON of one batch
// on the tiny synthetic model and on a fake OpenAI-compatible server, every timing,
// energy and path masked, so a change of format is a visible diff (JP_UPDATE_GOLDEN=1
// rewrites).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "cli/engine_masks.hpp"
#include "llama/tiny_model.hpp"
#include "support/golden.hpp"
#include "support/http_server_openai.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask_engine_output;
using testing::run_program;

TEST(GoldenRun, LlamacppConsoleCsvJson) {
  const std::string model = testing::tiny_model();
  const std::string args = "run --model " + model +
                           " -I 8 -O 4 -B 2 --threads 1 --warmup 0 --sensor cpu-model --flash-attn off --no-mmap -o ";
  for (const auto& [format, file] :
       {std::pair{"console", "run.txt"}, std::pair{"csv", "run.csv"}, std::pair{"json", "run.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask_engine_output(r.out, model)), "");
  }
}

TEST(GoldenRun, OpenAiConsoleCsvJson) {
  testing::FakeOpenAiServer server(testing::FakeOpenAiOptions{});
  const std::string args = "run --engine openai --url " + server.base_url() +
                           " -I 8 -O 4 -B 2 --warmup 0 --timeout 5 --sensor cpu-model -o ";
  for (const auto& [format, file] : {std::pair{"console", "run_openai.txt"}, std::pair{"csv", "run_openai.csv"},
                                     std::pair{"json", "run_openai.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask_engine_output(r.out, "\\$NOPE")), "");
  }
}

TEST(GoldenRun, OldSpellingsStillWork) {
  const std::string model = testing::tiny_model();
  const std::string base = "run --model " + model + " -I 4 -B 1 --threads 1 --warmup 0 --sensor cpu-model ";
  // --output N was the generated tokens; --flash-attention the old spelling of --flash-attn.
  auto old = run_program(JP_CLI_PATH, base + "--output 3 --flash-attention on --json");
  ASSERT_EQ(old.exit_code, 0) << old.err;
  const auto j = nlohmann::json::parse(old.out);
  EXPECT_EQ(j["output_tokens"], 3);
  auto csv = run_program(JP_CLI_PATH, base + "--output-tokens 2 -o csv --output-file /dev/stdout");
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(run_program(JP_CLI_PATH, base + "-O 2 -o yaml").exit_code, 2);
  EXPECT_EQ(run_program(JP_CLI_PATH, base + "-O 2 --flash-attn maybe").exit_code, 2);
  EXPECT_EQ(run_program(JP_CLI_PATH, base + "--output 0").exit_code, 2);  // as -O 0 always was
}

}  // namespace
}  // namespace jouleperf
