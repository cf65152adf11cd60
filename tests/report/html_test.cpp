#include "jouleperf/report/html.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "jouleperf/report/assets.hpp"
#include "report/fixture.hpp"

namespace jouleperf::report {
namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The measured part's figures (the fixture has no simulated configuration), then the common ones.
const std::vector<std::string> kChartIds = {"table4",           "savings",        "energy-per-batch", "phase-share",
                                            "energy-per-token", "latency-energy", "lengths",          "power",
                                            "request-energy"};

const Chart& by_id(const std::vector<Chart>& charts, const std::string& id) {
  for (const auto& c : charts)
    if (c.id == id) return c;
  ADD_FAILURE() << "no chart " << id;
  static const Chart none;
  return none;
}

TEST(Assets, ThreePinnedScriptsWithTheirLicense) {
  const auto scripts = chart_scripts();
  ASSERT_EQ(scripts.size(), 3u);
  EXPECT_EQ(scripts[0].name, "vega");
  EXPECT_EQ(scripts[1].name, "vega-lite");
  EXPECT_EQ(scripts[2].name, "vega-embed");
  for (const auto& s : scripts) {
    EXPECT_GT(s.text.size(), 10000u) << s.name;
    EXPECT_FALSE(s.version.empty());
  }
  EXPECT_NE(chart_scripts_license().find("Redistribution and use in source and binary forms"), std::string::npos);
}

TEST(Html, EveryExpectedChartHasASpecWithItsDataInline) {
  const auto data = testing::realistic_report_data();
  auto charts = build_charts(data);
  ASSERT_TRUE(charts.ok()) << charts.error().to_string();
  ASSERT_EQ(charts->size(), kChartIds.size());
  for (std::size_t i = 0; i < kChartIds.size(); ++i) {
    const Chart& c = (*charts)[i];
    EXPECT_EQ(c.id, kChartIds[i]);
    ASSERT_FALSE(c.spec.is_null()) << c.id << ": " << c.not_run;
    EXPECT_EQ(c.spec["$schema"], "https://vega.github.io/schema/vega-lite/v5.json");
    EXPECT_FALSE(c.provenance.empty()) << c.id;
  }
  // Inline data: the heatmap holds every done cell (2 configs x 27 cells, one skipped).
  EXPECT_EQ(by_id(*charts, "energy-per-batch").spec["data"]["values"].size(), 53u);
  const std::string html = render_html(data, *charts);
  EXPECT_NE(html.find("data-charts-expected=\"9\""), std::string::npos);
  for (const auto& id : kChartIds) {
    EXPECT_NE(html.find("id=\"chart-" + id + "\""), std::string::npos) << id;
    EXPECT_NE(html.find("data-chart=\"chart-" + id + "\""), std::string::npos) << id;
  }
  // No network: no external script, stylesheet or data URL.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("BSD-3-Clause"), std::string::npos);
}

TEST(Html, ProvenanceSaysEstimatedWithSourceSensorAndNote) {
  const auto data = testing::realistic_report_data();
  auto charts = build_charts(data);
  ASSERT_TRUE(charts.ok());
  const Chart& heat = by_id(*charts, "energy-per-batch");
  EXPECT_NE(heat.provenance.find("Estimated: energy source cpu-time-model, sensor cpu-model"), std::string::npos)
      << heat.provenance;
  EXPECT_NE(heat.provenance.find("energies are estimated from CPU time"), std::string::npos);
  // A measured cell beside estimated ones: both are named, never merged.
  auto mixed = data;
  mixed.cells[0].estimated = false;
  mixed.cells[0].energy_source = "counter";
  mixed.cells[0].conditions = {{"sensor", {{"name", "rapl"}}}};
  auto c2 = build_charts(mixed);
  ASSERT_TRUE(c2.ok());
  const Chart& heat2 = by_id(*c2, "energy-per-batch");
  EXPECT_NE(heat2.provenance.find("Measured: energy source counter, sensor rapl (baseline)"), std::string::npos)
      << heat2.provenance;
  EXPECT_NE(heat2.provenance.find("Estimated:"), std::string::npos);
  // Simulated figures are called simulated.
  auto sim = data;
  for (auto& c : sim.cells) {
    c.simulated = true;
    c.energy_source = "simulated";
  }
  auto c3 = build_charts(sim);
  ASSERT_TRUE(c3.ok());
  // ... in their own section, with their own ids.
  const Chart& sim_token = by_id(*c3, "sim-energy-per-token");
  EXPECT_EQ(sim_token.section, kSectionSimulated);
  EXPECT_EQ(sim_token.provenance.rfind("Simulated: energy source simulated", 0), 0u) << sim_token.provenance;
}

TEST(Html, EnergyPerRequestOverlaysTheBinnedEstimateOfTheSameRequests) {
  const auto data = testing::realistic_report_data();
  auto charts = build_charts(data);
  ASSERT_TRUE(charts.ok()) << charts.error().to_string();
  const Chart& c = by_id(*charts, "request-energy");
  ASSERT_FALSE(c.spec.is_null()) << c.not_run;
  std::size_t attributed = 0, binned = 0;
  for (const auto& v : c.spec["data"]["values"]) {
    const std::string series = v["series"];
    if (series == "attributed (measured run)") ++attributed;
    if (series.rfind("binned estimate (q8_0-continuous, B=4)", 0) == 0) {  // the replay's own configuration
      ++binned;
      // E_batch(I*, O*, 4) / 4 of its cells at the largest measured batch <= its max batch 8.
      EXPECT_GT(v["energy_j"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(attributed, 11u);  // the failed request is left out
  EXPECT_GT(binned, 0u);
  EXPECT_LE(binned, attributed);  // requests beyond the cells are not priced
  EXPECT_NE(c.provenance.find("Estimated: energy source cpu-time-model"), std::string::npos) << c.provenance;
  EXPECT_NE(c.provenance.find("rounded up to the paper's edges"), std::string::npos) << c.provenance;
}

TEST(Html, FiguresWithoutDataSayNotRun) {
  ReportData empty;
  auto charts = build_charts(empty);
  ASSERT_TRUE(charts.ok());
  for (const auto& c : *charts) {
    EXPECT_TRUE(c.spec.is_null()) << c.id;
    EXPECT_EQ(c.not_run.rfind("Not run", 0), 0u) << c.id;
  }
  const std::string html = render_html(empty, *charts);
  EXPECT_NE(html.find("data-charts-expected=\"0\""), std::string::npos);
  EXPECT_EQ(count(html, "data-not-run="), kChartIds.size());
  EXPECT_EQ(count(html, "<script type=\"application/json\""), 0u);
}

TEST(Html, HostileStringsEndUpInert) {
  const auto data = testing::realistic_report_data();
  auto html = html_report(data);
  ASSERT_TRUE(html.ok()) << html.error().to_string();
  // The only <script> elements are the page's own: capture, 3 libraries, 9 specs, runner.
  EXPECT_EQ(count(*html, "<script"), 1u + 3u + 9u + 1u);
  EXPECT_EQ(count(*html, "</script>"), 1u + 3u + 9u + 1u);
  // What the page itself writes (after the inlined libraries, which are not ours).
  const auto libs_end = html->find("</script>", html->find("data-library=\"vega-embed\""));
  ASSERT_NE(libs_end, std::string::npos);
  const std::string page = html->substr(libs_end);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(html->find("<script>jpRecordError"), std::string::npos);
  EXPECT_NE(html->find("&lt;script&gt;jpRecordError(&#39;xss-script&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html->find("Test study &lt;/title&gt;"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x onerror=&quot;jpRecordError(&#39;xss-img&#39;)&quot;&gt;"), std::string::npos);
  // Inside a spec's JSON (the power trace's name) "</script>" is \u003c-escaped.
  EXPECT_NE(html->find("\\u003c/script\\u003e\\u003cscript\\u003ejpRecordError('xss-trace')"), std::string::npos);
}

TEST(Html, MalformedArtifactIsAnError) {
  auto data = testing::realistic_report_data();
  for (auto& a : data.artifacts)
    if (a.kind == "power-trace") a.body["samples"][3]["power_w"] = "high";
  auto html = html_report(data);
  ASSERT_FALSE(html.ok());
  EXPECT_NE(html.error().message.find("samples[3]"), std::string::npos) << html.error().message;
  EXPECT_NE(html.error().message.find("power_w"), std::string::npos) << html.error().message;
}

}  // namespace
}  // namespace jouleperf::report
