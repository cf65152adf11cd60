// Golden output of `jouleperf report` (tests/cli/golden/): a small store the test writes,
// console, CSV and JSON through -o FORMAT and --format; -o FILE still names the output file
// (JP_UPDATE_GOLDEN=1 rewrites).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "jouleperf/study/store.hpp"
#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::run_program;

std::string small_store(const testing::TempDir& dir) {
  const std::string path = (dir.path() / "s.sqlite").string();
  auto store = study::Store::open(path);
  EXPECT_TRUE(store.ok());
  study::Config c;
  c.name = "base";
  c.model = "tiny";
  EXPECT_TRUE(store->put_config(c).ok());
  for (std::uint32_t batch : {1u, 4u}) {
    study::CellResult cell;
    cell.key = {c.name, 128, 32, batch};
    cell.config_key = c.key();
    cell.energy_source = "cpu-time-model";
    cell.estimated = true;
    study::Repetition rep;
    rep.energy_j = 10.0 * batch;
    rep.duration_s = 2.0;
    cell.reps = {rep};
    EXPECT_TRUE(store->put_cell(cell).ok());
  }
  return path;
}

TEST(GoldenReport, ConsoleCsvJson) {
  testing::TempDir dir;
  const std::string store = small_store(dir);
  for (const auto& [format, file] :
       {std::pair{"console", "report.txt"}, std::pair{"csv", "report.csv"}, std::pair{"json", "report.json"}}) {
    auto r = run_program(JP_CLI_PATH, "report --store " + store + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, r.out), "") << format;
    // --format FORMAT writes the same.
    EXPECT_EQ(run_program(JP_CLI_PATH, "report --store " + store + " --format " + format).out, r.out) << format;
  }
}

TEST(GoldenReport, OutputFileAndTheOldDashO) {
  testing::TempDir dir;
  const std::string store = small_store(dir);
  auto slurp = [](const std::string& p) {
    std::stringstream s;
    s << std::ifstream(p).rdbuf();
    return s.str();
  };
  const auto csv = run_program(JP_CLI_PATH, "report --store " + store + " -o csv").out;
  const std::string a = (dir.path() / "a.csv").string(), b = (dir.path() / "b.csv").string();
  ASSERT_EQ(run_program(JP_CLI_PATH, "report --store " + store + " -o csv --output-file " + a).exit_code, 0);
  EXPECT_EQ(slurp(a), csv);
  // The old -o FILE: a value that is no format name is the output file.
  ASSERT_EQ(run_program(JP_CLI_PATH, "report --store " + store + " --format csv -o " + b).exit_code, 0);
  EXPECT_EQ(slurp(b), csv);
  const std::string html = (dir.path() / "r.html").string();
  ASSERT_EQ(run_program(JP_CLI_PATH, "report --store " + store + " -o " + html).exit_code, 0);
  EXPECT_NE(slurp(html).find("<html"), std::string::npos);
  // --json is -o json.
  EXPECT_EQ(run_program(JP_CLI_PATH, "report --store " + store + " --json").out,
            run_program(JP_CLI_PATH, "report --store " + store + " --format json").out);
}

}  // namespace
}  // namespace jouleperf
