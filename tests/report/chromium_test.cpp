// Opens the HTML report in headless Chromium (Debian's chromium package) and checks, from
// the DOM the page leaves behind, that every chart rendered and no script error occurred.
// Skips when chromium is not installed.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "jouleperf/report/html.hpp"
#include "report/fixture.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::report {
namespace {

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

struct PageState {
  int expected = -1;
  int rendered = -1;
  int error_count = -1;
  std::string errors;
  std::string done;
  std::string dom;
};

std::string attribute(const std::string& body_tag, const std::string& name) {
  const std::regex re(" " + name + "=\"([^\"]*)\"");
  std::smatch m;
  if (std::regex_search(body_tag, m, re)) return m[1];
  return "";
}

int to_int(const std::string& s) { return s.empty() ? -1 : std::stoi(s); }

// Writes the page, runs chromium --dump-dom on it and reads the <body> attributes.
PageState render(const std::string& html) {
  testing::TempDir dir;
  const auto page = dir.write("report.html", html);
  // For looking at the page by hand: JP_KEEP_REPORT=/tmp/report.html keeps a copy.
  if (const char* keep = std::getenv("JP_KEEP_REPORT"); keep != nullptr && *keep != '\0')
    std::filesystem::copy_file(page, keep, std::filesystem::copy_options::overwrite_existing);
  const auto dom_file = dir.path() / "dom.html";
  // A private profile directory: chromium must not touch the user's.
  const std::string cmd = chromium_path() + " --headless --no-sandbox --disable-gpu --no-first-run " +
                          "--user-data-dir=" + (dir.path() / "profile").string() +
                          " --virtual-time-budget=15000 --dump-dom file://" + page.string() + " > " +
                          dom_file.string() + " 2> " + (dir.path() / "stderr.txt").string();
  const int rc = std::system(cmd.c_str());
  PageState st;
  std::ifstream in(dom_file);
  st.dom.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << cmd;
  const auto at = st.dom.find("<body");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no <body> in chromium's DOM dump: " << st.dom.substr(0, 500);
    return st;
  }
  const std::string tag = st.dom.substr(at, st.dom.find('>', at) - at);
  st.expected = to_int(attribute(tag, "data-charts-expected"));
  st.rendered = to_int(attribute(tag, "data-charts-rendered"));
  st.error_count = to_int(attribute(tag, "data-error-count"));
  st.errors = attribute(tag, "data-errors");
  st.done = attribute(tag, "data-done");
  return st;
}

class ChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (chromium_path().empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  }
};

TEST_F(ChromiumTest, EveryChartRendersWithoutScriptErrors) {
  const auto data = testing::realistic_report_data();
  auto html = html_report(data);
  ASSERT_TRUE(html.ok()) << html.error().to_string();
  const PageState st = render(*html);
  EXPECT_EQ(st.expected, 8);
  EXPECT_EQ(st.rendered, st.expected) << "errors: " << st.errors;
  EXPECT_EQ(st.error_count, 0) << st.errors;
  EXPECT_EQ(st.done, "1");
  // Each chart container holds a drawn SVG with marks.
  for (const char* id : {"energy-per-batch", "energy-per-token", "phase-share", "power", "lengths", "table4", "savings",
                         "latency-energy"}) {
    const auto at = st.dom.find(std::string("id=\"chart-") + id + "\"");
    ASSERT_NE(at, std::string::npos) << id;
    const auto svg = st.dom.find("<svg", at);
    const auto next = st.dom.find("class=\"figure\"", at);
    EXPECT_TRUE(svg != std::string::npos && svg < next) << id << " has no <svg>";
  }
  // Table 4's bars have height (a log axis that stacked them drew every bar 0 px high).
  const auto t4 = st.dom.find("id=\"chart-table4\"");
  const std::string t4_svg = st.dom.substr(t4, st.dom.find("class=\"figure\"", t4) - t4);
  const std::regex bar(R"re(aria-roledescription="bar" d="M[-0-9.e]+,[-0-9.e]+h[-0-9.e]+v([-0-9.e]+)h)re");
  int bars = 0;
  for (auto it = std::sregex_iterator(t4_svg.begin(), t4_svg.end(), bar); it != std::sregex_iterator(); ++it) {
    ++bars;
    EXPECT_NE(std::stod((*it)[1]), 0.0) << "a zero-height bar in Table 4";
  }
  EXPECT_EQ(bars, 12);  // 2 workloads x 2 configs x 3 figures
  // The hostile model name was shown as text, not run.
  EXPECT_EQ(st.errors.find("xss"), std::string::npos);
}

TEST_F(ChromiumTest, ABrokenSpecIsRecordedAsAnError) {
  const auto data = testing::realistic_report_data();
  auto charts = build_charts(data);
  ASSERT_TRUE(charts.ok());
  (*charts)[1].spec["mark"] = "no-such-mark";
  const PageState st = render(render_html(data, *charts));
  EXPECT_EQ(st.expected, 8);
  EXPECT_EQ(st.rendered, 7);
  EXPECT_GE(st.error_count, 1);
  EXPECT_NE(st.errors.find("chart-energy-per-token"), std::string::npos) << st.errors;
  EXPECT_EQ(st.done, "1");
}

TEST_F(ChromiumTest, AScriptErrorIsRecorded) {
  const auto data = testing::realistic_report_data();
  auto charts = build_charts(data);
  ASSERT_TRUE(charts.ok());
  std::string html = render_html(data, *charts);
  const auto end = html.rfind("</body>");
  html.insert(end, "<script>undefinedFunctionCall();</script>\n");
  const PageState st = render(html);
  EXPECT_EQ(st.rendered, 8);
  EXPECT_GE(st.error_count, 1);
  EXPECT_NE(st.errors.find("undefinedFunctionCall"), std::string::npos) << st.errors;
}

}  // namespace
}  // namespace jouleperf::report
