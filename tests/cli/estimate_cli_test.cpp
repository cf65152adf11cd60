// `jouleperf estimate` end to end: a store written through the Store API, a small trace,
// and the estimate artifact's figures checked by hand.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/estimate_store.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/flops.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/study/store.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

class EstimateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = (dir_.path() / "study.db").string();
    trace_ = dir_.write("small.csv", testing::kEstimateTrace).string();
    // E_batch at B = 2: baseline 10, 30 (I = 32, 128; O = 8) and 20, 60 (O = 16); fast half.
    ASSERT_TRUE(testing::write_estimate_store(store_));
  }

  int run(const std::string& args) {
    const std::string cmd = std::string(JP_CLI_PATH) + " estimate --store " + store_ + " " + args + " > " +
                            (dir_.path() / "out.txt").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream f(dir_.path() / "out.txt");
    output_.assign(std::istreambuf_iterator<char>(f), {});
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  nlohmann::json json_file() {
    std::ifstream f(dir_.path() / "est.json");
    return nlohmann::json::parse(f);
  }

  testing::TempDir dir_;
  std::string store_, trace_, output_;
};

TEST_F(EstimateCli, TraceAgainstTheStoreByHand) {
  const std::string json = (dir_.path() / "est.json").string();
  ASSERT_EQ(run("--trace " + trace_ + " --input-col in --output-col out --json " + json + " --save"), 0) << output_;
  EXPECT_NE(output_.find("ESTIMATED from CPU time"), std::string::npos) << output_;
  const auto j = json_file();
  EXPECT_EQ(j["workload"], "small");
  EXPECT_EQ(j["requests"], 4);  // (500, 3) is past the last input edge, 128 (the store's lengths)
  EXPECT_EQ(j["baseline"], "baseline");
  const auto& base = j["configs"][0];
  // Bins (32,8): 1, (128,8): 1 (64 rounds up), (128,16): 2. Paper: 1/2*10 + 1/2*30 + 2/2*60 = 80 J.
  EXPECT_DOUBLE_EQ(base["energy_j"].get<double>(), 80.0);
  EXPECT_DOUBLE_EQ(j["configs"][1]["energy_j"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(j["configs"][1]["saving_pct"].get<double>(), 50.0);
  // Corrected, linear in the lengths between measured cells: 10/2 + E(64,8)/2 + E(100,16)/2 + 60/2,
  // E(64,8) = 10 + (64-32)/(128-32) * 20, E(100,16) = 20 + (100-32)/(128-32) * 40.
  const double e64 = 10.0 + 32.0 / 96.0 * 20.0;
  const double e100 = 20.0 + 68.0 / 96.0 * 40.0;
  EXPECT_NEAR(base["corrected_energy_j"].get<double>(), 5.0 + e64 / 2.0 + e100 / 2.0 + 30.0, 1e-9);
  EXPECT_DOUBLE_EQ(base["per_request_j"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(base["per_output_token_j"].get<double>(), 80.0 / (8 + 8 + 16 + 16));
  // Ideal: H100 SXM bf16 TDP / peak times the FLOPs of Llama-3.2-1B on the bins.
  auto profile = hardware::HardwareRegistry().find("h100-sxm");
  ASSERT_TRUE(profile.ok());
  const ModelInfo m = info_from_arch(*find_builtin_arch("Llama-3.2-1B"));
  const double flops =
      request_flops(m, 32, 8).total() + request_flops(m, 128, 8).total() + 2.0 * request_flops(m, 128, 16).total();
  const double ideal = profile->tdp_w / profile->peak_flops.bf16 * flops;
  EXPECT_NEAR(base["ideal_energy_j"].get<double>(), ideal, 1e-9 * ideal);
  EXPECT_NEAR(base["above_ideal_pct"].get<double>(), 100.0 * (80.0 / ideal - 1.0), 1e-6);
  EXPECT_TRUE(base["estimated"].get<bool>());
  EXPECT_EQ(base["energy_source"], "cpu-time-model");
  // Default carbon: 390 g/kWh and PUE 1.58.
  EXPECT_NEAR(base["gco2e"].get<double>(), 80.0 / 3.6e6 * 1.58 * 390.0, 1e-12);

  auto s = study::Store::open(store_);
  ASSERT_TRUE(s.ok());
  auto arts = s->artifacts("estimate");
  ASSERT_TRUE(arts.ok());
  ASSERT_EQ(arts->size(), 1u);
  EXPECT_EQ((*arts)[0].name, "small");
  EXPECT_DOUBLE_EQ((*arts)[0].body["configs"][0]["energy_j"].get<double>(), 80.0);
}

TEST_F(EstimateCli, MissingBinsInterpolatedOrRefused) {
  const std::string json = (dir_.path() / "est.json").string();
  const std::string args =
      "--trace " + trace_ + " --input-col in --output-col out --input-edges 32,64,128 --json " + json;
  ASSERT_EQ(run(args), 0) << output_;
  const auto j = json_file();
  bool found = false;
  for (const auto& b : j["configs"][0]["bins"])
    if (b["input_tokens"] == 64) {
      found = true;
      EXPECT_TRUE(b["interpolated"].get<bool>());
      EXPECT_NEAR(b["energy_batch_j"].get<double>(), 20.0, 1e-9);
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(run(args + " --missing refuse"), 1) << output_;
  EXPECT_NE(output_.find("I*=64 O*=8"), std::string::npos) << output_;
}

TEST_F(EstimateCli, EmbeddedWorkloadScaledAndUsageErrors) {
  const std::string json = (dir_.path() / "est.json").string();
  ASSERT_EQ(
      run("--workload azure-code-2023 --scale-input 0.05 --scale-output 0.05 --out-of-range clamp --carbon-intensity "
          "100 --pue 1.1 --json " +
          json),
      0)
      << output_;
  const auto j = json_file();
  EXPECT_EQ(j["trace"], "embedded:azure-code-2023");
  EXPECT_DOUBLE_EQ(j["scale"]["input"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(j["carbon"]["pue"].get<double>(), 1.1);
  const double e = j["configs"][0]["energy_j"].get<double>();
  EXPECT_NEAR(j["configs"][0]["gco2e"].get<double>(), e / 3.6e6 * 1.1 * 100.0, 1e-9 * e);
  EXPECT_LE(j["configs"][0]["corrected_energy_j"].get<double>(), e);
  EXPECT_EQ(run("--workload azure-code-2023 --trace " + trace_), 2) << output_;
  EXPECT_EQ(run("--workload no-such"), 2) << output_;
  EXPECT_EQ(run("--workload azure-code-2023 --missing maybe"), 2) << output_;
  EXPECT_EQ(run("--workload azure-code-2023 --pue 0.5"), 2) << output_;
  EXPECT_EQ(run("--workload azure-code-2023 --hardware no-such-gpu"), 2) << output_;
  EXPECT_NE(output_.find("no-such-gpu"), std::string::npos) << output_;
  EXPECT_EQ(run("--workload azure-code-2023 --arch No-Such-Model"), 2) << output_;
  EXPECT_EQ(run("--workload azure-code-2023 --tdp-w 300"), 2) << output_;
  EXPECT_EQ(run("--workload azure-code-2023 --store-typo x"), 2) << output_;
}

}  // namespace
}  // namespace jouleperf
