// Settings a killed jouleperf left changed are put back (issue 19, docs/controls.md): by
// `jouleperf restore`, and by the next measured sweep before it measures. A fake cpufreq
// tree stands in for sysfs; the killed process is a child that changed settings through
// the journal and died by SIGKILL.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "jouleperf/sensor/settings_journal.hpp"
#include "jouleperf/study/store.hpp"
#include "llama/tiny_model.hpp"
#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::stringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

struct Tree {
  testing::TempDir dir;
  std::string root, journal;
  Tree() {
    const std::string d = "cpu/cpu0/cpufreq/";
    dir.write(d + "cpuinfo_min_freq", "800000\n");
    dir.write(d + "cpuinfo_max_freq", "3500000\n");
    dir.write(d + "scaling_max_freq", "3500000\n");
    root = (dir.path() / "cpu").string();
    journal = (dir.path() / "settings.journal").string();
  }
  std::string max_freq() const { return slurp(dir.path() / "cpu/cpu0/cpufreq/scaling_max_freq"); }
  // A process that lowers the clock through the journal and is killed before it restores.
  void killed_after_a_change() const {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto w = cpufreq_writer(root);
      auto j = SettingsJournal::open(journal);
      if (!j || !j->change(*w, "cpu0/scaling_max_freq", "1200000")) ::_exit(3);
      ::kill(::getpid(), SIGKILL);
      ::_exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_EQ(max_freq(), "1200000");
  }
};

TEST(SettingsRestoreCli, RestorePutsBackWhatAKilledRunLeftChanged) {
  Tree t;
  t.killed_after_a_change();
  const std::string args = "restore --settings-journal " + t.journal + " --cpufreq-root " + t.root;
  auto r = testing::run_program(JP_CLI_PATH, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restored (left changed by an earlier jouleperf): cpufreq cpu0/scaling_max_freq = 3500000"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(t.max_freq(), "3500000");
  EXPECT_FALSE(std::filesystem::exists(t.journal));
  auto again = testing::run_program(JP_CLI_PATH, args);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("nothing to restore"), std::string::npos) << again.out;
}

TEST(SettingsRestoreCli, TheNextMeasuredSweepRestoresBeforeItMeasures) {
  Tree t;
  t.killed_after_a_change();
  const std::string d = t.dir.path().string();
  auto r = testing::run_program(
      JP_CLI_PATH, "sweep --model " + testing::tiny_model() +
                       " --threads 1 -I 8 -O 2 -B 1 --reps 1 --warmup 0 --sensor cpu-model --no-progress --node-lock " +
                       d + "/node.lock --settings-journal " + t.journal + " --cpufreq-root " + t.root + " --store " +
                       d + "/s.db");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restored (left changed by an earlier jouleperf)"), std::string::npos) << r.err;
  EXPECT_EQ(t.max_freq(), "3500000");
  EXPECT_FALSE(std::filesystem::exists(t.journal));
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

// A study whose first configuration caps the CPUs at 2 GHz under the powersave governor
// and whose second runs the machine as it is (issue 19, docs/controls.md).
std::string two_config_study(const testing::TempDir& dir, const std::string& max_khz) {
  return dir
      .write(
          "study.yaml",
          "name: cpu-caps\nconfigs:\n  - name: capped\n    engine: llamacpp\n    model: " + testing::tiny_model() +
              "\n    threads: 1\n    settings: {cpu_max_freq_khz: " + max_khz +
              ", cpu_governor: powersave}\n  - name: as-is\n    engine: llamacpp\n    model: " + testing::tiny_model() +
              "\n    threads: 1\ninputs: [8]\noutputs: [2]\nbatches: [1]\nrepetitions: 2\nwarmup: 0\n")
      .string();
}

TEST(SettingsRestoreCli, ASweepAppliesEachConfigsCpuSettingsRecordsThemAndRestoresThem) {
  Tree t;
  t.dir.write("cpu/cpu0/cpufreq/scaling_governor", "schedutil\n");
  t.dir.write("cpu/cpu0/cpufreq/scaling_available_governors", "performance powersave schedutil\n");
  const std::string d = t.dir.path().string();
  const std::string flags = " --sensor cpu-model --no-progress --node-lock " + d + "/node.lock --settings-journal " +
                            t.journal + " --cpufreq-root " + t.root + " -o json";
  auto r = testing::run_program(JP_CLI_PATH,
                                "sweep " + two_config_study(t.dir, "2000000") + " --store " + d + "/s.db" + flags);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(t.max_freq(), "3500000");  // restored after the sweep
  EXPECT_EQ(slurp(t.dir.path() / "cpu/cpu0/cpufreq/scaling_governor"), "schedutil");
  EXPECT_FALSE(std::filesystem::exists(t.journal));
  auto cells = testing::run_program(JP_CLI_PATH, "report --store " + d + "/s.db --table cells -o json");
  ASSERT_EQ(cells.exit_code, 0) << cells.err;
  auto store = study::Store::open(d + "/s.db", study::StoreMode::kReadOnly);
  ASSERT_TRUE(store);
  auto stored = store->cells();
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 2u);
  for (const auto& c : *stored) {
    if (c.key.config == "capped") {
      // Read back from the machine while the cell ran.
      EXPECT_EQ(c.conditions.at("machine_settings").at("cpufreq:cpu0/scaling_max_freq"), "2000000");
      EXPECT_EQ(c.conditions.at("machine_settings").at("cpufreq:cpu0/scaling_governor"), "powersave");
    } else {
      EXPECT_FALSE(c.conditions.contains("machine_settings")) << c.conditions.dump();
    }
  }

  // Out of the CPU's range: refused before the first cell, nothing changed or stored.
  auto bad = testing::run_program(JP_CLI_PATH,
                                  "sweep " + two_config_study(t.dir, "9000000") + " --store " + d + "/bad.db" + flags);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("config \"capped\": cpu_max_freq_khz 9000000: cpu0 runs from 800000 to 3500000 kHz"),
            std::string::npos)
      << bad.err;
  EXPECT_EQ(t.max_freq(), "3500000");
  auto none = study::Store::open(d + "/bad.db", study::StoreMode::kReadOnly);
  if (none) {
    auto c = none->cells();
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->empty());
  }
}

}  // namespace
}  // namespace jouleperf

namespace jouleperf {
namespace {

// SIGINT while a configuration's settings are in force: the sweep stops after the batch
// in progress, puts the originals back and exits 130.
TEST(SettingsRestoreCli, SigintStopsTheSweepAndRestoresTheSettings) {
  Tree t;
  t.dir.write("cpu/cpu0/cpufreq/scaling_governor", "schedutil\n");
  t.dir.write("cpu/cpu0/cpufreq/scaling_available_governors", "performance powersave schedutil\n");
  const std::string d = t.dir.path().string();
  std::string study = slurp(two_config_study(t.dir, "2000000"));
  study += "idle_gap_s: 0.5\n";  // a sweep that lasts a few seconds
  study.replace(study.find("repetitions: 2"), 14, "repetitions: 6");
  const std::string file = t.dir.write("slow.yaml", study).string();
  const std::vector<std::string> args{
      JP_CLI_PATH,      "sweep",         file,          "--store",        d + "/s.db",          "--sensor",
      "cpu-model",      "--no-progress", "--node-lock", d + "/node.lock", "--settings-journal", t.journal,
      "--cpufreq-root", t.root};
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int out = ::open((d + "/sweep.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  bool applied = false;
  for (int i = 0; i < 600 && !applied; ++i) {  // up to 60 s for the first config's settings
    applied = t.max_freq() == "2000000";
    if (!applied) ::usleep(100000);
  }
  ASSERT_TRUE(applied) << slurp(d + "/sweep.err");
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(d + "/sweep.err");
  EXPECT_NE(slurp(d + "/sweep.err").find("interrupted"), std::string::npos) << slurp(d + "/sweep.err");
  EXPECT_EQ(t.max_freq(), "3500000");
  EXPECT_EQ(slurp(t.dir.path() / "cpu/cpu0/cpufreq/scaling_governor"), "schedutil");
  EXPECT_FALSE(std::filesystem::exists(t.journal));
}

}  // namespace
}  // namespace jouleperf
