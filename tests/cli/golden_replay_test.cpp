// Golden output of `jouleperf replay` (tests/cli/golden/): console, CSV and JSON of a
// seeded Poisson replay served in-process on the tiny synthetic model (with the offline
// comparison) and sent to a fake OpenAI-compatible server, every timing, energy and
// path masked, so a change of format is a visible diff (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "cli/engine_masks.hpp"
#include "llama/tiny_model.hpp"
#include "support/golden.hpp"
#include "support/http_server_openai.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask_engine_output;
using testing::run_program;

TEST(GoldenReplay, LlamacppConsoleCsvJson) {
  const std::string model = testing::tiny_model();
  const std::string args = "replay --engine llamacpp --model " + model +
                           " --poisson 200 --requests 4 -I 8 -O 3 --max-batch 2 --threads 1 --warmup 0"
                           " --idle-power 1 --offline-compare --sensor cpu-model -o ";
  for (const auto& [format, file] :
       {std::pair{"console", "replay.txt"}, std::pair{"csv", "replay.csv"}, std::pair{"json", "replay.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask_engine_output(r.out, model)), "");
  }
}

TEST(GoldenReplay, OpenAiConsoleCsvJson) {
  testing::FakeOpenAiServer server(testing::FakeOpenAiOptions{});
  const std::string args =
      "replay --url " + server.base_url() + " --poisson 200 --requests 4 -I 4 -O 2 --timeout 5 --sensor cpu-model -o ";
  for (const auto& [format, file] : {std::pair{"console", "replay_openai.txt"}, std::pair{"csv", "replay_openai.csv"},
                                     std::pair{"json", "replay_openai.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask_engine_output(r.out, "\\$NOPE")), "");
  }
}

TEST(GoldenReplay, RateSweepConsoleCsvJson) {
  testing::FakeOpenAiServer server(testing::FakeOpenAiOptions{});
  const std::string args = "replay --url " + server.base_url() +
                           " --rates 200,400 --requests 3 --warmup 1 --idle-gap 0 -I 4 -O 2 --timeout 5"
                           " --sensor cpu-model -o ";
  for (const auto& [format, file] : {std::pair{"console", "replay_sweep.txt"}, std::pair{"csv", "replay_sweep.csv"},
                                     std::pair{"json", "replay_sweep.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask_engine_output(r.out, "\\$NOPE")), "");
  }
}

TEST(GoldenReplay, OldSpellingsAndTheJsonSwitch) {
  testing::FakeOpenAiServer server(testing::FakeOpenAiOptions{});
  const std::string base = "replay --url " + server.base_url() + " --poisson 200 --requests 2 -I 4 --sensor cpu-model ";
  auto old = run_program(JP_CLI_PATH, base + "--output 3 --json");  // --output N: the old generated tokens
  ASSERT_EQ(old.exit_code, 0) << old.err;
  const auto j = nlohmann::json::parse(old.out);
  EXPECT_EQ(j["output_tokens"], 6);
  EXPECT_EQ(j["per_request"].size(), 2u);
  EXPECT_EQ(run_program(JP_CLI_PATH, base + "-O 2 -o yaml").exit_code, 2);
  EXPECT_EQ(run_program(JP_CLI_PATH, base + "--output 0").exit_code, 2);
}

TEST(GoldenReplay, TheStoredRunIsAReplayRecordTheReportReads) {
  testing::FakeOpenAiServer server(testing::FakeOpenAiOptions{});
  testing::TempDir dir;
  const std::string db = (dir.path() / "r.db").string();
  auto r =
      run_program(JP_CLI_PATH, "replay --url " + server.base_url() +
                                   " --poisson 200 --requests 3 -I 4 -O 2 --sensor cpu-model -o csv --store " + db);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = run_program(JP_CLI_PATH, "report --store " + db + " --format csv --table replays");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_NE(rep.out.find("openai,,,\"Poisson 200 req/s, seed 1\",3,3,"), std::string::npos) << rep.out;
  EXPECT_NE(rep.out.find("cpu-time-model,true,false"), std::string::npos) << rep.out;
  // Every request of the run, one row each, in the report's replay_requests table.
  auto all = run_program(JP_CLI_PATH, "report --store " + db + " --format md");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto at = all.out.find("Online replays: every request");
  ASSERT_NE(at, std::string::npos) << all.out;
  EXPECT_NE(all.out.find("| true |", at), std::string::npos) << all.out;
}

// A rate sweep is stored like a replay: one replay record per phase, which the report reads.
TEST(GoldenReplay, TheStoredSweepIsAReplayRecordPerPhase) {
  testing::FakeOpenAiServer server(testing::FakeOpenAiOptions{});
  testing::TempDir dir;
  const std::string db = (dir.path() / "s.db").string();
  auto r = run_program(JP_CLI_PATH, "replay --url " + server.base_url() +
                                        " --rates 200,400 --requests 3 --warmup 0 --idle-gap 0 -I 4 -O 2 --timeout 5"
                                        " --sensor cpu-model -o csv --store " +
                                        db);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = run_program(JP_CLI_PATH, "report --store " + db + " --format csv --table replays");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_NE(rep.out.find("\"Poisson 200 req/s, rate sweep seed 1\",3,3,"), std::string::npos) << rep.out;
  EXPECT_NE(rep.out.find("\"Poisson 400 req/s, rate sweep seed 1\",3,3,"), std::string::npos) << rep.out;
}

}  // namespace
}  // namespace jouleperf
