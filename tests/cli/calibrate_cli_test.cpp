// `jouleperf calibrate` end to end: a store swept with the sim engine on one CPU profile
// is calibrated from another profile and predicts its held-out cells; the written JSON
// gives `jouleperf simulate` the fitted deployment; a missing config is a usage error.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

class CalibrateCli : public ::testing::Test {
 protected:
  int run(const std::string& args) {
    const std::string cmd =
        std::string(JP_CLI_PATH) + " " + args + " > " + (dir_.path() / "out.txt").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream f(dir_.path() / "out.txt");
    output_.assign(std::istreambuf_iterator<char>(f), {});
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string store() const { return (dir_.path() / "cal.db").string(); }

  // The "machine": epyc-7763 under llamacpp-cpu, simulated (fast, no sensor).
  void sweep() {
    ASSERT_EQ(run("sweep --store " + store() +
                  " --config-name cpu --engine sim --model Llama-3.2-1B --setting hardware=epyc-7763"
                  " --setting stack=llamacpp-cpu --setting precision=int8 --input 32,128,512 --output 8,64"
                  " --batch 1,4,16 --reps 1 --warmup 0 --no-progress"),
              0)
        << output_;
  }

  testing::TempDir dir_;
  std::string output_;
};

TEST_F(CalibrateCli, FitsAnotherProfileToTheCellsAndPredictsHeldOutOnes) {
  sweep();
  const std::string out = (dir_.path() / "calibrated.json").string();
  // Start from another CPU (epyc-9654: other rates, bandwidth, power).
  ASSERT_EQ(run("calibrate --store " + store() + " --config cpu --hardware epyc-9654 -o " + out), 0) << output_;
  EXPECT_NE(output_.find("held out"), std::string::npos) << output_;
  EXPECT_NE(output_.find("SIMULATED"), std::string::npos);
  std::ifstream f(out);
  const auto doc = nlohmann::json::parse(f);
  const auto& cal = doc.at("calibration");
  EXPECT_EQ(cal.at("train_cells").get<int>() + cal.at("heldout_cells").get<int>(), 18);
  EXPECT_EQ(cal.at("heldout_cells").get<int>(), 6);
  EXPECT_LT(cal.at("heldout_mape_latency_pct").get<double>(), 5.0) << output_;
  EXPECT_LT(cal.at("heldout_mape_energy_pct").get<double>(), 5.0) << output_;
  EXPECT_EQ(doc.at("profiles").at(0).at("name"), "epyc-9654-cpu-calibrated");
  EXPECT_EQ(doc.at("stack").at("based_on"), "llamacpp-cpu");

  // The written profile + stack file reproduce a cell's prediction in `simulate`.
  const nlohmann::json* cell = nullptr;
  for (const auto& c : cal.at("cells"))
    if (c.at("input_tokens") == 128 && c.at("output_tokens") == 64 && c.at("batch") == 4) cell = &c;
  ASSERT_NE(cell, nullptr);
  ASSERT_EQ(run("simulate --profiles " + out + " --hardware epyc-9654-cpu-calibrated --stack-file " + out +
                " --model Llama-3.2-1B --precision int8 --input 128 --output 64 --batch 4 --json"),
            0)
      << output_;
  const auto sim = nlohmann::json::parse(output_);
  EXPECT_NEAR(sim.at("duration_s").get<double>() / cell->at("predicted_duration_s").get<double>(), 1.0, 1e-6);
  EXPECT_NEAR(sim.at("energy_j").get<double>() / cell->at("predicted_energy_j").get<double>(), 1.0, 1e-6);
  // Without the stack file the built-in stack's efficiencies apply again: another answer.
  ASSERT_EQ(run("simulate --profiles " + out +
                " --hardware epyc-9654-cpu-calibrated --stack llamacpp-cpu"
                " --model Llama-3.2-1B --precision int8 --input 128 --output 64 --batch 4 --json"),
            0)
      << output_;
  const auto plain = nlohmann::json::parse(output_);
  EXPECT_GT(std::abs(plain.at("duration_s").get<double>() / sim.at("duration_s").get<double>() - 1.0), 0.1);
}

TEST_F(CalibrateCli, MissingConfigIsAUsageErrorAndABadStackFileIsRefused) {
  sweep();
  EXPECT_EQ(run("calibrate --store " + store() + " --config nope"), 2);
  EXPECT_NE(output_.find("no config 'nope'"), std::string::npos) << output_;
  EXPECT_NE(output_.find("cpu"), std::string::npos) << output_;
  EXPECT_EQ(run("calibrate --store " + store() + " --config cpu --hold-out-every 1"), 2);
  const auto bad = dir_.write("bad.json", R"({"stack": {"based_on": "llamacpp-cpu", "warp_speed": 9}})");
  EXPECT_NE(run("simulate --hardware epyc-7763 --stack-file " + bad.string() +
                " --model Llama-3.2-1B --input 32 --output 8 --batch 1"),
            0);
  EXPECT_NE(output_.find("warp_speed"), std::string::npos) << output_;
}

TEST_F(CalibrateCli, TooFewCellsFailToCalibrate) {
  // One cell: nothing to hold out.
  ASSERT_EQ(run("sweep --store " + store() +
                " --config-name cpu --engine sim --model Llama-3.2-1B --setting hardware=epyc-7763"
                " --setting stack=llamacpp-cpu --input 32 --output 8 --batch 1 --reps 1 --warmup 0 --no-progress"),
            0)
      << output_;
  EXPECT_EQ(run("calibrate --store " + store() + " --config cpu"), 1);
  EXPECT_NE(output_.find("at least 4"), std::string::npos) << output_;
}

}  // namespace
}  // namespace jouleperf
