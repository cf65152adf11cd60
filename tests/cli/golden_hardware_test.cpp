// Golden output of `jouleperf hardware list|show` (tests/cli/golden/): console, CSV and
// JSON of the built-in profiles (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::run_program;

TEST(GoldenHardware, ListConsoleCsvJson) {
  for (const auto& [format, file] : {std::pair{"console", "hardware_list.txt"}, std::pair{"csv", "hardware_list.csv"},
                                     std::pair{"json", "hardware_list.json"}}) {
    auto r = run_program(JP_CLI_PATH, std::string("hardware list -o ") + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, r.out), "");
  }
}

TEST(GoldenHardware, ShowConsoleCsvJson) {
  for (const auto& [format, file] : {std::pair{"console", "hardware_show.txt"}, std::pair{"csv", "hardware_show.csv"},
                                     std::pair{"json", "hardware_show.json"}}) {
    auto r = run_program(JP_CLI_PATH, std::string("hardware show a6000 -o ") + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, r.out), "");
  }
  // --json is -o json; an unknown profile is a usage error.
  EXPECT_EQ(run_program(JP_CLI_PATH, "hardware show a6000 --json").out,
            run_program(JP_CLI_PATH, "hardware show a6000 -o json").out);
  EXPECT_EQ(run_program(JP_CLI_PATH, "hardware show no-such-gpu -o csv").exit_code, 2);
}

}  // namespace
}  // namespace jouleperf
