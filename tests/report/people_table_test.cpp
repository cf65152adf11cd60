// Tables for people: three significant digits, no scientific notation, one unit per column
// in its heading, long tables collapsed, and a CSV download that holds every row.
#include "people_table.hpp"

#include <gtest/gtest.h>

#include <cctype>

#include "jouleperf/report/tables.hpp"
#include "report/fixture.hpp"

namespace jouleperf::report::detail {
namespace {

TEST(Sig3, ThreeSignificantDigitsInFixedNotation) {
  EXPECT_EQ(sig3(13780.0), "13\u2009800");
  EXPECT_EQ(sig3(1.378e7), "13\u2009800\u2009000");
  EXPECT_EQ(sig3(0.0123456), "0.0123");
  EXPECT_EQ(sig3(4.5678), "4.57");
  EXPECT_EQ(sig3(-45.678), "-45.7");
  EXPECT_EQ(sig3(99.96), "100");
  EXPECT_EQ(sig3(0.0), "0");
  EXPECT_EQ(sig3(1e-15), "0.000000000000");  // below the 12 decimals shown: still no exponent
  EXPECT_EQ(sig3(std::nan("")), "-");
}

TEST(DisplayColumn, PicksOneUnitPerColumnFromItsValues) {
  const std::vector<std::vector<Value>> big = {{13780.0}, {22000.0}, {9000.0}};
  const auto kj = display_column({"energy_per_batch_j", ""}, big, 0);
  EXPECT_EQ(kj.heading, "energy per batch (kJ)");
  EXPECT_EQ(display_value(big[0][0], kj), "13.8");
  const std::vector<std::vector<Value>> small = {{0.012}, {0.02}};
  const auto mj = display_column({"energy_j", ""}, small, 0);
  EXPECT_EQ(mj.heading, "energy (mJ)");
  EXPECT_EQ(display_value(small[0][0], mj), "12.0");
  const std::vector<std::vector<Value>> pct = {{12.345}};
  EXPECT_EQ(display_column({"saving_pct", ""}, pct, 0).heading, "saving (%)");
  const std::vector<std::vector<Value>> secs = {{0.25}};
  EXPECT_EQ(display_column({"ttft_p50_s", ""}, secs, 0).heading, "ttft p50 (ms)");
  EXPECT_EQ(display_column({"config", ""}, {{std::string("x")}}, 0).heading, "config");
}

// Decodes a data: URI's percent-encoding.
std::string uri_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST(PeopleTable, CollapsesLongTablesAndItsCsvHoldsEveryRow) {
  const auto data = testing::realistic_report_data();
  const Table cells = cells_table(data);
  ASSERT_EQ(cells.rows.size(), 54u);
  PeopleTableOptions o;
  o.columns = {"config", "input_tokens", "output_tokens", "batch", "energy_per_batch_j"};
  const std::string html = people_table_html(cells, o);
  EXPECT_NE(html.find("data-rows=\"54\""), std::string::npos);
  EXPECT_NE(html.find("show all 54 rows"), std::string::npos);
  std::size_t more = 0;
  for (std::size_t p = html.find("<tr class=\"more\">"); p != std::string::npos;
       p = html.find("<tr class=\"more\">", p + 1))
    ++more;
  EXPECT_EQ(more, 54u - o.collapse_after);
  // The CSV download: the whole table (every column, every row), as to_csv writes it. (Found
  // with find, not std::regex: the libstdc++ matcher recurses per character and overflows
  // the stack on a long data: URI in a sanitizer build.)
  const std::string href = "href=\"data:text/csv;charset=utf-8,";
  const auto from = html.find(href);
  ASSERT_NE(from, std::string::npos);
  const auto to = html.find('"', from + href.size());
  ASSERT_NE(to, std::string::npos);
  EXPECT_EQ(uri_decode(html.substr(from + href.size(), to - from - href.size())), to_csv(cells));
  // What a person reads (the page without the encoded CSV) has no scientific notation.
  const std::string shown = html.substr(0, from) + html.substr(to);
  for (std::size_t i = 1; i + 1 < shown.size(); ++i) {
    if ((shown[i] != 'e' && shown[i] != 'E') || !std::isdigit(static_cast<unsigned char>(shown[i - 1]))) continue;
    std::size_t j = i + 1;
    if (shown[j] == '+' || shown[j] == '-') ++j;
    EXPECT_FALSE(j < shown.size() && std::isdigit(static_cast<unsigned char>(shown[j])))
        << "scientific notation: " << shown.substr(i - 1, 12);
  }
}

}  // namespace
}  // namespace jouleperf::report::detail
