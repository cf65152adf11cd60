// `jouleperf study` end to end at the smallest settings: every step runs, the store holds
// the cells and every document the report draws, the report is written, and the terminal
// says that the energies are estimated when they are.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "jouleperf/study/store.hpp"
#include "support/chromium.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

struct Run {
  std::string out;
  int exit_code = -1;
};

Run run(const std::string& args) {
  Run r;
  FILE* p = popen((std::string(JP_CLI_PATH) + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(StudyCli, MainJobRunsEveryStepAndResumes) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "study").string();
  const std::string args = "study --out " + out +
                           " --sensor cpu-model --idle 0.2 --reps 1 --warmup 0 --max-batch 2 --replay-requests 4 "
                           "--replay-rate 20 --validation-requests 3 --no-progress-bar";
  auto r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ESTIMATED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("report: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SIMULATED"), std::string::npos) << r.out;

  auto store =
      study::Store::open(out + "/results.db", study::StoreMode::kReadOnly);  // the writer lock stays free for the rerun
  ASSERT_TRUE(store.ok());
  auto cells = store->cells();
  ASSERT_TRUE(cells.ok());
  std::size_t measured = 0, simulated = 0;
  for (const auto& c : *cells) {
    if (c.status == study::CellStatus::kSkipped) {
      EXPECT_TRUE(c.simulated) << study::to_string(c.key) << ": only simulated cells may not fit: " << c.reason;
      continue;
    }
    if (c.simulated) {
      ++simulated;
    } else {
      ++measured;
      EXPECT_TRUE(c.estimated);
      EXPECT_EQ(c.energy_source, "cpu-time-model");
    }
  }
  // 4 input x 4 output lengths for each measured configuration (3 or 4 of them).
  EXPECT_GE(measured, 48u);
  EXPECT_EQ(measured % 16, 0u);
  EXPECT_GT(simulated, 0u);
  for (const char* kind : {"estimate", "replay", "validation", "power-trace", "lengths", "study"}) {
    auto docs = store->artifacts(kind);
    ASSERT_TRUE(docs.ok());
    EXPECT_FALSE(docs->empty()) << "no " << kind << " document";
  }
  auto est = store->artifacts("estimate");
  for (const auto& e : *est) {
    // The baseline saves nothing against itself; every config has an ideal and its Table-4 ratio.
    for (const auto& c : e.body["configs"]) {
      EXPECT_TRUE(c["ideal_energy_j"].is_number()) << e.name;
      EXPECT_GT(c["energy_j"].get<double>(), c["ideal_energy_j"].get<double>()) << e.name;
    }
  }
  std::ifstream html(out + "/report.html");
  std::stringstream ss;
  ss << html.rdbuf();
  EXPECT_GT(ss.str().size(), 100000u);
  EXPECT_NE(ss.str().find("vega"), std::string::npos);
  // The terminal ends with the report's first screen in words, then the report's path.
  const auto findings = r.out.find("Findings:");
  ASSERT_NE(findings, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("less energy per request than baseline", findings), std::string::npos) << r.out;
  EXPECT_NE(r.out.rfind("What ran: engine "), std::string::npos) << r.out;
  EXPECT_GT(r.out.rfind("report: "), findings) << r.out;

  // The main job's real report, as a person sees it at 1400 x 900 (issue 15).
  if (!testing::chromium_path().empty()) {
    const auto st = testing::render_in_chromium(ss.str());
    EXPECT_GT(st.expected, 10);  // a measured and a simulated part
    EXPECT_EQ(st.rendered, st.expected) << st.errors;
    EXPECT_EQ(st.error_count, 0) << st.errors;
    ASSERT_TRUE(st.probed);
    EXPECT_LE(st.max_chart_height_px, 900) << st.tallest_chart;
    EXPECT_GT(st.headline_bottom_px, 0);
    EXPECT_LE(st.headline_bottom_px, 900);
    EXPECT_GT(st.findings_bottom_px, 0);
    EXPECT_LE(st.findings_bottom_px, 900);
    EXPECT_EQ(st.wide, "");
    EXPECT_LE(st.page_scroll_width_px, st.viewport_width_px);
    EXPECT_EQ(st.scientific, "");
    EXPECT_GT(st.csv_tables, 3);
    EXPECT_EQ(st.csv_mismatches, "");
    EXPECT_NE(st.dom.find("id=\"part-simulated\""), std::string::npos);
  }

  // A second run resumes: nothing is measured again.
  auto again = run(args);
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("0 measured"), std::string::npos) << again.out;
}

// A store whose thread probe holds a wrong type (hand-edited, or written by something
// else): one error naming the store and the artifact, exit 2 (malformed input) — not a
// terminate.
TEST(StudyCli, AMalformedStoredThreadProbeIsAnErrorNotACrash) {
  testing::TempDir dir;
  const auto out = dir.path() / "study";
  std::filesystem::create_directories(out);
  {
    auto store = study::Store::open((out / "results.db").string());
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE(store->put_artifact({"study", "threads-probe", {{"best_threads", "many"}}, 0.0}));
  }
  auto r = run("study --out " + out.string() + " --sensor cpu-model --idle 0.2 --no-progress-bar");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("threads-probe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best_threads"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace jouleperf
