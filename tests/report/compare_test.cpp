// Before and after: two stores of the same study matched by name.
#include "jouleperf/report/compare.hpp"

#include <gtest/gtest.h>

#include "jouleperf/report/html.hpp"
#include "jouleperf/report/table.hpp"
#include "report/compare_fixture.hpp"

namespace jouleperf::report {
namespace {

const Value& cell(const Table& t, std::size_t row, const char* column) {
  return t.rows[row][static_cast<std::size_t>(t.column(column))];
}

// The row of (workload, config), or -1.
int find_row(const Table& t, const std::string& workload, const std::string& config) {
  for (std::size_t i = 0; i < t.rows.size(); ++i)
    if (std::get<std::string>(cell(t, i, "workload")) == workload &&
        std::get<std::string>(cell(t, i, "config")) == config)
      return static_cast<int>(i);
  return -1;
}

TEST(Compare, AFasterConfigurationShowsItsChangeWithAnInterval) {
  const auto [before, after] = testing::before_after_data();
  auto t = compare_table(after, before);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  // The estimate: 20 % less energy; both intervals +-5 %, in quadrature +-7.07 %.
  const int fast = find_row(*t, "azure-conv-2023", "q8_0-continuous");
  ASSERT_GE(fast, 0);
  EXPECT_EQ(std::get<std::string>(cell(*t, fast, "status")), "in both");
  // Every figure says what it is and where it came from.
  EXPECT_EQ(std::get<std::string>(cell(*t, fast, "source")), "ESTIMATED, cpu-time-model");
  EXPECT_NEAR(std::get<double>(cell(*t, fast, "change_pct")), -20.0, 1e-9);
  const double h = std::sqrt(2.0) * 0.05;
  EXPECT_NEAR(std::get<double>(cell(*t, fast, "change_lo_pct")), 100.0 * (0.8 * (1 - h) - 1), 1e-9);
  EXPECT_NEAR(std::get<double>(cell(*t, fast, "change_hi_pct")), 100.0 * (0.8 * (1 + h) - 1), 1e-9);
  // The unchanged baseline: no change.
  const int base = find_row(*t, "azure-conv-2023", "baseline");
  ASSERT_GE(base, 0);
  EXPECT_NEAR(std::get<double>(cell(*t, base, "change_pct")), 0.0, 1e-9);
  // Over the matched cells: every q8_0 cell 20 % lower, its interval around it.
  const int cells = find_row(*t, "cells: 26 matched", "q8_0-continuous");
  ASSERT_GE(cells, 0) << to_csv(*t);
  EXPECT_NEAR(std::get<double>(cell(*t, cells, "change_pct")), -20.0, 1e-6);
  const double lo = std::get<double>(cell(*t, cells, "change_lo_pct"));
  const double hi = std::get<double>(cell(*t, cells, "change_hi_pct"));
  EXPECT_LT(lo, -20.0);
  EXPECT_GT(hi, -20.0);
  EXPECT_GT(hi, lo);
}

TEST(Compare, ConfigurationsInOnlyOneStoreAreListedAsSuch) {
  const auto [before, after] = testing::before_after_data();
  auto t = compare_table(after, before);
  ASSERT_TRUE(t.ok());
  const int added = find_row(*t, "cells", "f16-flash");
  ASSERT_GE(added, 0) << to_csv(*t);
  EXPECT_EQ(std::get<std::string>(cell(*t, added, "status")), "only in new");
  const int gone = find_row(*t, "cells", "old-threads");
  ASSERT_GE(gone, 0);
  EXPECT_EQ(std::get<std::string>(cell(*t, gone, "status")), "only in old");
  // In the page: its own section, with the same rows.
  auto html = html_report(after, &before);
  ASSERT_TRUE(html.ok()) << html.error().to_string();
  const auto at = html->find("<section id=\"compare\">");
  ASSERT_NE(at, std::string::npos);
  const std::string section = html->substr(at, html->find("</section>", at) - at);
  EXPECT_NE(section.find("only in new"), std::string::npos);
  EXPECT_NE(section.find("only in old"), std::string::npos);
  EXPECT_NE(section.find("-20.0"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::report
