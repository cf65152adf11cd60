// The report's answer: the headline per workload and configuration and the findings,
// generated from the stored estimates and validations.
#include "jouleperf/report/summary.hpp"

#include <gtest/gtest.h>

#include "report/fixture.hpp"

namespace jouleperf::report {
namespace {

TEST(Summary, HeadlineRowsCarryEnergyIntervalSavingAndDistances) {
  auto s = summarize(testing::mixed_report_data());
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  ASSERT_EQ(s->rows.size(), 6u);  // 2 workloads x 2 CPU configs, then 2 simulated
  const HeadlineRow& fast = s->rows[1];
  EXPECT_EQ(fast.workload, "azure-conv-2023");
  EXPECT_EQ(fast.config, "q8_0-continuous");
  EXPECT_EQ(fast.kind, Kind::kEstimated);
  // Wh per 1,000 requests from E / N when the document gives no per-1000 figure.
  ASSERT_TRUE(fast.wh_per_1k);
  EXPECT_NEAR(*fast.wh_per_1k, 31000.0 / 3600.0 / 19366.0 * 1000.0, 1e-9);
  EXPECT_NEAR(*fast.wh_per_1k_lo, *fast.wh_per_1k * 0.95, 1e-9);
  EXPECT_NEAR(*fast.saving_pct, 40.4, 1e-9);
  // No paired interval stored: from both estimates' bounds, and said so.
  EXPECT_FALSE(fast.saving_interval_paired);
  EXPECT_NEAR(*fast.saving_lo_pct, 100.0 * (1.0 - 31000.0 * 1.05 / (52000.0 * 0.95)), 1e-9);
  EXPECT_NEAR(*fast.ideal_ratio, 40.0, 1e-9);
  EXPECT_NEAR(*fast.binned_vs_real_pct, 25.0, 1e-9);
  // The validation document of (baseline, azure-conv-2023).
  EXPECT_NEAR(*s->rows[0].validation_error_pct, 25.0, 1e-9);
  EXPECT_FALSE(fast.validation_error_pct);
  EXPECT_EQ(s->rows[4].kind, Kind::kSimulated);
  EXPECT_EQ(kinds_text(s->what), "ESTIMATED and SIMULATED");
  EXPECT_EQ(s->what.engines, (std::vector<std::string>{"llamacpp", "sim"}));
  EXPECT_NE(std::find(s->what.hardware.begin(), s->what.hardware.end(), "a6000 (simulated)"), s->what.hardware.end());
}

TEST(Summary, FindingsAreSentencesMadeFromTheNumbers) {
  auto s = summarize(testing::mixed_report_data());
  ASSERT_TRUE(s.ok());
  ASSERT_GE(s->findings.size(), 3u);
  ASSERT_LE(s->findings.size(), 5u);
  EXPECT_EQ(s->findings[0],
            "q8_0-continuous uses 40 % less energy per request than baseline on azure-conv-2023 (interval 34 to 46 % "
            "from both estimates' bounds).");
  // A cost is called a cost.
  EXPECT_EQ(
      s->findings[1].rfind("q8_0-continuous uses 7.1 % more energy per request than baseline on azure-code-2023", 0),
      0u)
      << s->findings[1];
  bool ideal = false, validation = false, simulated = false;
  for (const auto& f : s->findings) {
    ideal |= f.find("FLOPs-ideal baseline") != std::string::npos &&
             f.find("sits 40x below the ESTIMATED energy") != std::string::npos;
    validation |= f.find("binned estimate was 25 % high (baseline on azure-conv-2023)") != std::string::npos;
    simulated |= f.rfind("Simulated (nothing was run): a6000-continuous uses 35 % less", 0) == 0;
  }
  EXPECT_TRUE(ideal);
  EXPECT_TRUE(validation);
  EXPECT_TRUE(simulated);
  const auto lines = summary_lines(*s);
  EXPECT_EQ(lines[0].rfind("What ran: engine llamacpp, sim;", 0), 0u) << lines[0];
}

TEST(Summary, APairedIntervalIsCalledA95PercentInterval) {
  auto d = testing::realistic_report_data();
  for (auto& a : d.artifacts)
    if (a.kind == "estimate" && a.name == "azure-conv-2023") {
      a.body["configs"][1]["saving_lo_pct"] = 38.2;
      a.body["configs"][1]["saving_hi_pct"] = 42.9;
    }
  auto s = summarize(d);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->findings[0],
            "q8_0-continuous uses 40 % less energy per request than baseline on azure-conv-2023 (95 % interval 38 to "
            "43 %).");
}

TEST(Summary, NoEstimatesSayWhatToRunAndAMalformedOneIsAnError) {
  ReportData empty;
  auto s = summarize(empty);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->rows.empty());
  ASSERT_EQ(s->findings.size(), 1u);
  EXPECT_NE(s->findings[0].find("no workload estimates"), std::string::npos);
  auto bad = testing::realistic_report_data();
  for (auto& a : bad.artifacts)
    if (a.kind == "estimate") a.body["configs"][0]["energy_j"] = "lots";
  auto e = summarize(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("configs[0]"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("energy_j"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace jouleperf::report
