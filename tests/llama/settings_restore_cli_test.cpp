// Settings a killed jouleperf left changed are put back (issue 19, docs/controls.md): by
// `jouleperf restore`, and by the next measured sweep before it measures. A fake cpufreq
// tree stands in for sysfs; the killed process is a child that changed settings through
// the journal and died by SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "jouleperf/sensor/settings_journal.hpp"
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
