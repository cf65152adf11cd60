// Golden output of `jouleperf calibrate` (tests/cli/golden/): console, CSV and JSON of a
// fit to the cells of a simulated sweep (a store made by the test), and of a fit to the
// ML.ENERGY file in the shared data (skipped when absent). Temp paths are masked.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::golden_diff;
using testing::mask;
using testing::run_program;

// A fit's figures past the 7th decimal follow the last bits of the optimiser's arithmetic
// (they moved by 1e-11 between two builds of the same source): the golden keeps 7 decimals.
std::string fit_digits(const std::string& text) {
  return std::regex_replace(text, std::regex(R"((\.[0-9]{7})[0-9]+)"), "$1");
}

class GoldenCalibrate : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = run_program(JP_CLI_PATH, "sweep --store " + store() +
                                          " --config-name cpu --engine sim --model Llama-3.2-1B --setting "
                                          "hardware=epyc-7763 --setting stack=llamacpp-cpu --setting precision=int8 "
                                          "--input 32,512 --output 8,64 --batch 1,4,16 --reps 1 --warmup 0 "
                                          "--no-progress");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string store() const { return (dir_.path() / "cal.db").string(); }
  std::string masked(const std::string& text) const { return fit_digits(mask(text, {dir_.path().string()})); }

  testing::TempDir dir_;
};

constexpr const char* kFit = " --config cpu --hardware epyc-9654 --max-evaluations 300 --random-starts 1";

TEST_F(GoldenCalibrate, StoreConsoleCsvAndJson) {
  for (const auto& [format, file] : {std::pair{"console", "calibrate.txt"}, std::pair{"csv", "calibrate.csv"},
                                     std::pair{"json", "calibrate.json"}}) {
    auto r = run_program(JP_CLI_PATH, "calibrate --store " + store() + kFit + " -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, file, masked(r.out)), "");
  }
}

TEST_F(GoldenCalibrate, SaveAndTheOldDashOFileWriteTheJsonDocument) {
  const std::string saved = (dir_.path() / "saved.json").string();
  const std::string old = (dir_.path() / "old.json").string();
  auto json = run_program(JP_CLI_PATH, "calibrate --store " + store() + kFit + " --json");
  auto a = run_program(JP_CLI_PATH, "calibrate --store " + store() + kFit + " --save " + saved);
  auto b = run_program(JP_CLI_PATH, "calibrate --store " + store() + kFit + " -o " + old);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(a.out.find("wrote " + saved), std::string::npos) << a.out;
  EXPECT_NE(b.out.find("wrote " + old), std::string::npos) << b.out;
  auto read = [](const std::string& p) {
    std::string text(1 << 20, '\0');
    std::FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) return std::string();
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    return text;
  };
  EXPECT_EQ(read(saved), json.out);
  EXPECT_EQ(read(old), json.out);
}

TEST(GoldenCalibrateServing, ConsoleCsvAndJson) {
  const std::string file = std::string(JP_SHARED_DATA_DIR) + "/mlenergy_v3_llama-3.1-8b_h100.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no " << file;
  for (const auto& [format, golden] :
       {std::pair{"console", "calibrate_serving.txt"}, std::pair{"csv", "calibrate_serving.csv"},
        std::pair{"json", "calibrate_serving.json"}}) {
    auto r = run_program(JP_CLI_PATH,
                         "calibrate --measurements " + file + " --fit-evaluations 200 --no-leave-one-out -o " + format);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(golden_diff(JP_SOURCE_DIR, golden, fit_digits(mask(r.out, {R"([^" ]*/(?=mlenergy_v3))"}))), "");
  }
}

}  // namespace
}  // namespace jouleperf
