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
  EXPECT_EQ(run("--store " + store + " --format md").out.find("### Cells"),
            0u + std::string("# jouleperf report\n\n").size());
  EXPECT_EQ(run("--store " + store + " --format console").rc, 0);
  const std::string html = (dir.path() / "r.html").string();
  ASSERT_EQ(run("--store " + store + " -o " + html + " 2>/dev/null").rc, 0);
  std::ifstream in(html);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("data-charts-expected=\"3\""), std::string::npos);  // heatmap, per token, latency
  EXPECT_NE(page.find("Not run"), std::string::npos);
}

TEST(ReportCli, MissingStoreFailsAndBadFormatIsUsage) {
  testing::TempDir dir;
  EXPECT_EQ(run("--store " + (dir.path() / "none.sqlite").string() + " 2>/dev/null").rc, 1);
  EXPECT_EQ(run("--store " + make_store(dir) + " --format pdf 2>/dev/null").rc, 2);
}

}  // namespace
}  // namespace jouleperf
