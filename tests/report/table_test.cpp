#include "jouleperf/report/table.hpp"

#include <gtest/gtest.h>

#include "jouleperf/report/tables.hpp"
#include "report/fixture.hpp"

namespace jouleperf::report {
namespace {

Table small() {
  Table t;
  t.name = "t";
  t.title = "Small";
  t.columns = {{"config", ""}, {"energy_per_batch_j", ""}, {"batch", ""}, {"estimated", ""}};
  t.rows = {{std::string("a,\"b\""), 1.25, std::int64_t{4}, true},
            {std::string("plain"), Value{}, std::int64_t{16}, false}};
  return t;
}

TEST(Table, CsvQuotesAndKeepsFullPrecision) {
  Table t = small();
  t.rows[0][1] = 0.1 + 0.2;
  EXPECT_EQ(to_csv(t),
            "config,energy_per_batch_j,batch,estimated\r\n"
            "\"a,\"\"b\"\"\",0.30000000000000004,4,true\r\n"
            "plain,,16,false\r\n");
}

TEST(Table, JsonHasNullForEmptyCells) {
  const auto j = to_json(small());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["config"], "a,\"b\"");
  EXPECT_EQ(j[0]["energy_per_batch_j"], 1.25);
  EXPECT_EQ(j[0]["batch"], 4);
  EXPECT_EQ(j[0]["estimated"], true);
  EXPECT_TRUE(j[1]["energy_per_batch_j"].is_null());
}

TEST(Table, ConsoleAlignsColumnsAndRightAlignsNumbers) {
  const std::string s = to_console(small());
  EXPECT_EQ(s,
            "Small\n"
            "config  energy_per_batch_j  batch  estimated\n"
            "a,\"b\"                 1.25      4  true\n"
            "plain                    -     16  false\n");
}

TEST(Table, MarkdownEscapesPipesAndHtml) {
  Table t = small();
  t.rows[1][0] = std::string("x|<b>y</b>");
  const std::string s = to_markdown(t);
  EXPECT_NE(s.find("### Small"), std::string::npos);
  EXPECT_NE(s.find("| config | energy_per_batch_j | batch | estimated |"), std::string::npos);
  EXPECT_NE(s.find("| x\\|&lt;b&gt;y&lt;/b&gt; |  | 16 | false |"), std::string::npos);
}

TEST(Table, HtmlEscapesStrings) {
  Table t = small();
  t.rows[0][0] = testing::kHostileModel;
  const std::string s = to_html(t);
  EXPECT_EQ(s.find("<script"), std::string::npos);
  EXPECT_EQ(s.find("<img"), std::string::npos);
  EXPECT_NE(s.find("&lt;script&gt;"), std::string::npos);
}

// Every numeric column of the report's tables carries its unit in its name.
TEST(Tables, ColumnNamesCarryUnits) {
  const auto data = testing::realistic_report_data();
  auto tables = report_tables(data);
  ASSERT_TRUE(tables.ok()) << tables.error().to_string();
  ASSERT_EQ(tables->size(), 5u);  // cells, configurations, estimates, replays, their requests
  const std::vector<std::string> unitless_counts = {"input_tokens", "output_tokens",  "batch",
                                                    "requests",     "completed",      "max_batch",
                                                    "repetitions",  "slo_attainment", "request"};
  const std::vector<std::string> units = {"_j", "_mj", "_s", "_w", "_pct", "_wh", "_rps", "_per_s", "gco2e"};
  for (const auto& t : *tables) {
    ASSERT_FALSE(t.rows.empty()) << t.name;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const bool numeric = std::any_of(t.rows.begin(), t.rows.end(),
                                       [&](const auto& row) { return std::holds_alternative<double>(row[c]); });
      if (!numeric) continue;
      const std::string& n = t.columns[c].name;
      const bool has_unit = std::any_of(units.begin(), units.end(), [&](const std::string& u) {
        return n.size() >= u.size() && n.compare(n.size() - u.size(), u.size(), u) == 0;
      });
      const bool is_count = std::find(unitless_counts.begin(), unitless_counts.end(), n) != unitless_counts.end();
      EXPECT_TRUE(has_unit || is_count) << t.name << "." << n << " has no unit";
    }
  }
  const Table& cells = (*tables)[0];
  for (const char* col : {"energy_per_batch_j", "energy_per_output_token_mj", "duration_s", "energy_per_request_j",
                          "idle_power_w", "energy_source", "estimated", "simulated"})
    EXPECT_GE(cells.column(col), 0) << col;
}

TEST(Tables, CellFiguresComeFromTheRepetitions) {
  report::ReportData d;
  study::CellResult c;
  c.key = {"cfg", 128, 32, 4};
  c.energy_source = "counter";
  study::Repetition r;
  r.energy_j = 8.0;
  r.duration_s = 2.0;
  c.reps = {r, r};
  c.reps[1].energy_j = 12.0;
  d.cells = {c};
  const Table t = cells_table(d);
  ASSERT_EQ(t.rows.size(), 1u);
  const auto& row = t.rows[0];
  EXPECT_DOUBLE_EQ(std::get<double>(row[static_cast<std::size_t>(t.column("energy_per_batch_j"))]), 10.0);
  EXPECT_DOUBLE_EQ(std::get<double>(row[static_cast<std::size_t>(t.column("energy_per_request_j"))]), 2.5);
  // 10 J / (4 * 32 tokens) = 78.125 mJ.
  EXPECT_DOUBLE_EQ(std::get<double>(row[static_cast<std::size_t>(t.column("energy_per_output_token_mj"))]), 78.125);
  // No phase energies stored: empty, not zero.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(row[static_cast<std::size_t>(t.column("prefill_energy_j"))]));
  EXPECT_EQ(std::get<bool>(row[static_cast<std::size_t>(t.column("estimated"))]), false);
}

TEST(Tables, MalformedArtifactFieldIsAnErrorNamingIt) {
  auto d = testing::realistic_report_data();
  for (auto& a : d.artifacts)
    if (a.kind == "replay") a.body["per_request_j"] = "ten";
  auto t = replays_table(d);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, Errc::kParse);
  EXPECT_NE(t.error().message.find("replay/q8_0-continuous/poisson"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("per_request_j"), std::string::npos) << t.error().message;
}

}  // namespace
}  // namespace jouleperf::report

namespace jouleperf::report {
namespace {

// A replay that stored its requests gets a row per request in the report (and the HTML).
TEST(Tables, ReplayRequestsAreOneRowEach) {
  auto data = testing::realistic_report_data();
  for (auto& a : data.artifacts) a.body.erase("per_request");  // only the replay below stores its requests
  auto before = report_tables(data);
  ASSERT_TRUE(before.ok());
  study::Artifact a;
  a.kind = "replay";
  a.name = "replay-1";
  a.body = nlohmann::json::parse(R"({"config": "m", "requests": 2, "completed": 1, "per_request": [
      {"scheduled_s": 0, "send_s": 0.001, "ttft_s": 0.02, "e2e_s": 0.05, "output_tokens": 2, "ok": true, "error": ""},
      {"scheduled_s": 0.5, "send_s": 0.5, "ttft_s": 0, "e2e_s": 0.01, "output_tokens": 0, "ok": false,
       "error": "HTTP 500: boom"}]})");
  data.artifacts.push_back(a);
  auto tables = report_tables(data);
  ASSERT_TRUE(tables.ok()) << tables.error().to_string();
  ASSERT_EQ(tables->size(), before->size() + 1);
  const auto t =
      std::find_if(tables->begin(), tables->end(), [](const Table& x) { return x.name == "replay_requests"; });
  ASSERT_NE(t, tables->end());
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(std::get<std::string>(t->rows[1][static_cast<std::size_t>(t->column("error"))]), "HTTP 500: boom");
  EXPECT_DOUBLE_EQ(std::get<double>(t->rows[0][static_cast<std::size_t>(t->column("ttft_s"))]), 0.02);
  const std::string html = to_html(*t);
  EXPECT_NE(html.find("HTTP 500: boom"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::report
