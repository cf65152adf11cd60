// `jouleperf report`: every format from a results store, and its usage errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/study/store.hpp"
#include "report/compare_fixture.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

struct CliRun {
  int rc = -1;
  std::string out;
};

CliRun run(const std::string& args) {
  CliRun r;
  const std::string cmd = std::string(JP_CLI_PATH) + " report " + args;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0) r.out.append(buf.data(), n);
  r.rc = WEXITSTATUS(pclose(p.release()));
  return r;
}

std::string make_store(const testing::TempDir& dir) {
  const std::string path = (dir.path() / "s.sqlite").string();
  auto store = study::Store::open(path);
  EXPECT_TRUE(store.ok());
  study::Config c;
  c.name = "base,\"line\"";
  c.model = "tiny";
  EXPECT_TRUE(store->put_config(c).ok());
  study::CellResult cell;
  cell.key = {c.name, 128, 32, 4};
  cell.config_key = c.key();
  cell.energy_source = "cpu-time-model";
  cell.estimated = true;
  study::Repetition rep;
  rep.energy_j = 10.0;
  rep.duration_s = 2.0;
  cell.reps = {rep};
  EXPECT_TRUE(store->put_cell(cell).ok());
  return path;
}

TEST(ReportCli, CsvJsonMarkdownConsoleAndHtml) {
  testing::TempDir dir;
  const std::string store = make_store(dir);
  const CliRun csv = run("--store " + store + " --format csv");
  ASSERT_EQ(csv.rc, 0);
  EXPECT_EQ(csv.out.rfind("config,engine,model,", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find("\"base,\"\"line\"\"\",llamacpp,tiny,"), std::string::npos) << csv.out;
  const CliRun json = run("--store " + store + " --format json");
  ASSERT_EQ(json.rc, 0);
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_DOUBLE_EQ(j["cells"][0]["energy_per_batch_j"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(j["cells"][0]["energy_per_output_token_mj"].get<double>(), 10.0 / (4 * 32) * 1e3);
  EXPECT_TRUE(j["estimates"].empty());
  // Markdown: the answer first (what ran, the findings), then the tables.
  const std::string md = run("--store " + store + " --format md").out;
  EXPECT_EQ(md.rfind("# jouleperf report\n\nWhat ran: engine llamacpp; model tiny;", 0), 0u) << md;
  EXPECT_LT(md.find("Findings:"), md.find("### Cells")) << md;
  EXPECT_EQ(run("--store " + store + " --format console").rc, 0);
  const std::string html = (dir.path() / "r.html").string();
  ASSERT_EQ(run("--store " + store + " -o " + html + " 2>/dev/null").rc, 0);
  std::ifstream in(html);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("data-charts-expected=\"3\""), std::string::npos);  // heatmap, per token, latency
  EXPECT_NE(page.find("Not run"), std::string::npos);
}

// Writes `d` (configs, cells, documents) into a new store at `path`.
void write_store(const std::string& path, const report::ReportData& d) {
  auto store = study::Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  for (const auto& c : d.configs) ASSERT_TRUE(store->put_config(c).ok());
  for (const auto& c : d.cells) ASSERT_TRUE(store->put_cell(c).ok());
  for (const auto& a : d.artifacts) ASSERT_TRUE(store->put_artifact(a).ok());
}

// `report --compare OLD.db`: two small stores, q8_0-continuous 20 % cheaper in the new one,
// one configuration only in each.
TEST(ReportCli, CompareShowsTheChangeWithItsIntervalAndConfigurationsInOnlyOneStore) {
  testing::TempDir dir;
  const auto [before, after] = testing::before_after_data();
  const std::string old_db = (dir.path() / "old.db").string();
  const std::string new_db = (dir.path() / "new.db").string();
  write_store(old_db, before);
  write_store(new_db, after);
  const CliRun json = run("--store " + new_db + " --compare " + old_db + " --format json");
  ASSERT_EQ(json.rc, 0) << json.out;
  const auto rows = nlohmann::json::parse(json.out)["compare"];
  ASSERT_TRUE(rows.is_array()) << json.out;
  bool faster = false, added = false, gone = false;
  for (const auto& r : rows) {
    if (r["workload"] == "azure-conv-2023" && r["config"] == "q8_0-continuous") {
      faster = true;
      EXPECT_NEAR(r["change_pct"].get<double>(), -20.0, 1e-9);
      EXPECT_LT(r["change_lo_pct"].get<double>(), -20.0);
      EXPECT_GT(r["change_hi_pct"].get<double>(), -20.0);
    }
    added |= r["config"] == "f16-flash" && r["status"] == "only in new";
    gone |= r["config"] == "old-threads" && r["status"] == "only in old";
  }
  EXPECT_TRUE(faster && added && gone) << rows.dump(1);
  // The HTML report gets the section; a CSV of the one table.
  const std::string html = (dir.path() / "r.html").string();
  ASSERT_EQ(run("--store " + new_db + " --compare " + old_db + " --output-file " + html + " 2>/dev/null").rc, 0);
  std::ifstream in(html);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<section id=\"compare\">"), std::string::npos);
  const CliRun csv = run("--store " + new_db + " --compare " + old_db + " -o csv --table compare");
  ASSERT_EQ(csv.rc, 0) << csv.out;
  EXPECT_EQ(csv.out.rfind("workload,config,status,before,after,change_pct,", 0), 0u) << csv.out;
  // An older store that is not there is an error, not an empty section.
  const CliRun missing = run("--store " + new_db + " --compare " + (dir.path() / "nope.db").string() + " 2>&1");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.out.find("--compare: no results store"), std::string::npos) << missing.out;
}

TEST(ReportCli, MissingStoreFailsAndBadFormatIsUsage) {
  testing::TempDir dir;
  EXPECT_EQ(run("--store " + (dir.path() / "none.sqlite").string() + " 2>/dev/null").rc, 1);
  EXPECT_EQ(run("--store " + make_store(dir) + " --format pdf 2>/dev/null").rc, 2);
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

TEST(ReportCli, AnUnknownTableIsAnErrorListingTheStoresTables) {
  testing::TempDir dir;
  const std::string store = make_store(dir);
  const CliRun bad = run("--store " + store + " -o csv --table nope 2>&1");
  EXPECT_EQ(bad.rc, 2);  // a usage error, as an unknown --format
  EXPECT_NE(bad.out.find("--table 'nope': this store's tables are cells, estimates, replays, validations"),
            std::string::npos)
      << bad.out;
  const CliRun cells = run("--store " + store + " -o csv --table cells");
  EXPECT_EQ(cells.rc, 0);
  EXPECT_EQ(cells.out.rfind("config,", 0), 0u) << cells.out;
}

}  // namespace
}  // namespace jouleperf
