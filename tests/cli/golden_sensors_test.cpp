// Golden output of `jouleperf sensors` and `jouleperf measure` (tests/cli/golden/) on a fake
// powercap tree the test writes (one RAPL package whose counter stands still: 0 W, 0 J),
// console, CSV and JSON, with timings, sample counts, host conditions and the temp path
// masked (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask;
using testing::run_program;

std::string fake_powercap(const testing::TempDir& dir) {
  dir.write("powercap/intel-rapl:0/name", "package-0\n");
  dir.write("powercap/intel-rapl:0/energy_uj", "1000\n");
  dir.write("powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
  return (dir.path() / "powercap").string();
}

const std::vector<std::string> kCommon = {
    R"([^ ",]*/powercap)",  // the temp path
    R"( +(?=\r?\n))",       // the padding of a last column (its width follows masked values)
};

std::vector<std::string> with(std::vector<std::string> extra) {
  extra.insert(extra.end(), kCommon.begin(), kCommon.end());
  return extra;
}

TEST(GoldenSensors, ConsoleCsvJson) {
  testing::TempDir dir;
  const std::string args = "sensors --sensor rapl --powercap-root " + fake_powercap(dir) + " --window 0.05 -o ";
  for (const auto& [format, file] :
       {std::pair{"console", "sensors.txt"}, std::pair{"csv", "sensors.csv"}, std::pair{"json", "sensors.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, mask(r.out, kCommon)), "") << format;
  }
}

TEST(GoldenMeasure, ConsoleCsvJson) {
  testing::TempDir dir;
  const std::string args =
      "measure --sensor rapl --powercap-root " + fake_powercap(dir) + " --hz 100 --counter-hz 10 -o ";
  const std::vector<std::string> masks = with({
      R"((duration_s|self_cpu_ms)[ ,][^\r\n]*)",                                        // timings (console, CSV)
      R"(rapl +cpu-package:0 [^\n]*)", R"(\d+(?=,counter,))",                           // sample counts
      R"x("(start_s|end_s|duration_s|samples|cpu_s|share_of_one_core)": [0-9.e+-]+)x",  // JSON timings
      R"("conditions": \{[^}]*\})",                                                     // the host
  });
  for (const auto& [format, file] :
       {std::pair{"console", "measure.txt"}, std::pair{"csv", "measure.csv"}, std::pair{"json", "measure.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + format + " -- sleep 0.3");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The summary for people always goes to stderr: the console golden file is that;
    // another format goes to stdout besides it.
    EXPECT_NE(r.err.find("Energy stats for 'sleep 0.3' (exit 0):"), std::string::npos) << r.err;
    const bool console = std::string(format) == "console";
    // Console columns are as wide as their widest (masked) value: the gaps are masked too.
    const std::string text = console ? mask(mask(r.err, masks), {" {2,}"}) : mask(r.out, masks);
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, text), "") << format;
    if (console) {
      EXPECT_EQ(r.out, "");
    }
  }
}

TEST(GoldenMeasure, JsonFileStillWorksBesidesTheFormat) {
  testing::TempDir dir;
  const std::string json = (dir.path() / "m.json").string();
  auto r = run_program(JP_CLI_PATH, "measure --sensor rapl --powercap-root " + fake_powercap(dir) + " --json " + json +
                                        " -o csv -- sh -c 'exit 3'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out.rfind("quantity,value,note", 0), 0u) << r.out;
  EXPECT_TRUE(std::filesystem::exists(json));
}

}  // namespace
}  // namespace jouleperf
