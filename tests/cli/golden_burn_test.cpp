// Golden output of `jouleperf burn` (tests/cli/golden/): a fixed amount of work, console,
// CSV and JSON with the timings masked (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask;
using testing::run_program;

TEST(GoldenBurn, ConsoleCsvJson) {
  // Elapsed seconds and GFLOP/s change from run to run; the work done does not.
  const std::vector<std::string> masks = {R"(for [0-9.]+ s)",
                                          R"(\([0-9.]+ GFLOP/s\))",  // the console header line
                                          R"(\b2 +[0-9.e+-]+(?= +0\.0215 ))",
                                          R"( +[0-9.e+-]+(?=\n$))",  // the console row
                                          R"([0-9.e+-]+(?=,0\.021504,))",
                                          R"([0-9.e+-]+(?=\r\n$))",                       // CSV
                                          R"x("(elapsed_s|gflop_per_s)": [0-9.e+-]+)x"};  // JSON
  for (const auto& [format, file] :
       {std::pair{"console", "burn.txt"}, std::pair{"csv", "burn.csv"}, std::pair{"json", "burn.json"}}) {
    auto r = run_program(JP_CLI_PATH, std::string("burn --gflop 0.02 --threads 2 -o ") + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask(r.out, masks)), "");
  }
}

}  // namespace
}  // namespace jouleperf
