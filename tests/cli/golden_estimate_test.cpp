// Golden output of `jouleperf estimate` (tests/cli/golden/): console, CSV and JSON of a
// small trace and an embedded workload against a store written by the test (two sim
// configurations on h100-sxm). Temp paths are masked.
#include <gtest/gtest.h>

#include "cli/estimate_store.hpp"
#include "jouleperf/study/store.hpp"
#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::estimate_cell;
using testing::golden_diff;
using testing::mask;
using testing::run_program;

class GoldenEstimate : public ::testing::Test {
 protected:
  void SetUp() override {
    trace_ = dir_.write("small.csv", testing::kEstimateTrace).string();
    ASSERT_TRUE(testing::write_estimate_store(store()));
  }
  std::string store() const { return (dir_.path() / "study.db").string(); }
  std::string masked(const std::string& text) const { return mask(text, {dir_.path().string()}); }

  testing::TempDir dir_;
  std::string trace_;
};

TEST_F(GoldenEstimate, TraceConsoleCsvAndJson) {
  const std::string args = "estimate --store " + store() + " --trace " + trace_ + " --input-col in --output-col out";
  for (const auto& [format, file] :
       {std::pair{"console", "estimate.txt"}, std::pair{"csv", "estimate.csv"}, std::pair{"json", "estimate.json"}}) {
    auto r = run_program(JP_CLI_PATH, args + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, masked(r.out)), "");
  }
}

TEST_F(GoldenEstimate, EmbeddedWorkloadConsole) {
  auto r = run_program(JP_CLI_PATH, "estimate --store " + store() +
                                        " --workload azure-code-2023 --scale-input 0.05 --scale-output 0.05 "
                                        "--out-of-range clamp --trace-format auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(golden_diff(JP_SOURCE_DIR, "estimate_embedded.txt", masked(r.out)), "");
}

TEST_F(GoldenEstimate, OldSpellingsStillWork) {
  // --format is the old name of --trace-format; --json FILE still writes the artifact
  // there and prints the tables; --json alone is -o json.
  const std::string json = (dir_.path() / "est.json").string();
  const std::string args = "estimate --store " + store() + " --trace " + trace_ + " --input-col in --output-col out";
  auto old = run_program(JP_CLI_PATH, args + " --format csv --json " + json);
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_NE(old.out.find("workload: small"), std::string::npos) << old.out;
  auto as_json = run_program(JP_CLI_PATH, args + " --json");
  auto dash_o = run_program(JP_CLI_PATH, args + " -o json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(as_json.out, dash_o.out);
  std::string text(1 << 20, '\0');
  std::FILE* f = std::fopen(json.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  EXPECT_EQ(text, as_json.out);
}

TEST_F(GoldenEstimate, TheIdealDeviceIsExplicitElseTheMeasuredHostCpu) {
  study::Config cpu;
  cpu.name = "cpu";
  cpu.engine = "llamacpp";
  cpu.model = "Llama-3.2-1B";
  cpu.weight_type = "bf16";
  cpu.threads = 2;
  {
    auto s = study::Store::open(store());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->put_config(cpu).ok());
    for (std::uint64_t i : {32, 128})
      for (std::uint64_t o : {8, 16}) ASSERT_TRUE(s->put_cell(estimate_cell("cpu", i, o, 5.0)).ok());
  }
  const std::string args = "estimate --store " + store() + " --trace " + trace_ + " --input-col in --output-col out";
  auto host = run_program(JP_CLI_PATH, args + " -o json");
  ASSERT_EQ(host.exit_code, 0) << host.err;
  EXPECT_NE(host.out.find("host CPU (measured, /proc/cpuinfo; 2 threads)"), std::string::npos) << host.out;
  auto given = run_program(JP_CLI_PATH, args + " --tdp-w 100 --peak-flops 1e12 -o json");
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(given.out.find("host CPU"), std::string::npos) << given.out;
  EXPECT_NE(given.out.find("--tdp-w 100 --peak-flops 1e+12"), std::string::npos) << given.out;
}

}  // namespace
}  // namespace jouleperf
