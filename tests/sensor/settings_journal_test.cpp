// Machine settings a sweep changes are put back (issue 19, docs/controls.md): the
// original goes to a synced journal before the change; restore() writes it back; a
// process killed before it restored leaves the journal for the next run. A fake cpufreq
// and powercap tree stands in for sysfs.
#include "jouleperf/sensor/settings_journal.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::TempDir;

// Asserts that a Status-returning step succeeded, printing its error otherwise.
#define DONE(expr)                                               \
  do {                                                           \
    const auto done_status = (expr);                             \
    ASSERT_TRUE(done_status) << done_status.error().to_string(); \
  } while (0)

std::string slurp(const std::filesystem::path& p) {
  std::stringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

// Two CPUs with cpufreq (800 MHz .. 3.5 GHz, running at most 3.5 GHz, governor
// schedutil) and one RAPL package zone limited to 200 W.
struct FakeTree {
  TempDir dir;
  std::string cpu_root, powercap_root;
  FakeTree() {
    for (int c : {0, 1}) {
      const std::string d = "cpu/cpu" + std::to_string(c) + "/cpufreq/";
      dir.write(d + "cpuinfo_min_freq", "800000\n");
      dir.write(d + "cpuinfo_max_freq", "3500000\n");
      dir.write(d + "scaling_max_freq", "3500000\n");
      dir.write(d + "scaling_governor", "schedutil\n");
      dir.write(d + "scaling_available_governors", "performance powersave schedutil\n");
    }
    dir.write("cpu/cpufreq/policy0/ignored", "");  // not a cpuN directory
    dir.write("powercap/intel-rapl:0/constraint_0_power_limit_uw", "200000000\n");
    cpu_root = (dir.path() / "cpu").string();
    powercap_root = (dir.path() / "powercap").string();
  }
  std::string max_freq(int cpu) const {
    return slurp(dir.path() / "cpu" / ("cpu" + std::to_string(cpu)) / "cpufreq" / "scaling_max_freq");
  }
};

TEST(SettingsJournal, AChangeIsJournaledFirstAndRestoredAfter) {
  FakeTree t;
  const std::string journal = (t.dir.path() / "run" / "settings.journal").string();
  auto cpufreq = cpufreq_writer(t.cpu_root);
  auto powercap = powercap_writer(t.powercap_root);
  auto j = SettingsJournal::open(journal);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_TRUE(j->pending().empty());
  DONE(j->change(*cpufreq, "cpu0/scaling_max_freq", "2000000"));
  DONE(j->change(*cpufreq, "cpu0/scaling_max_freq", "1500000"));  // the first original is kept
  DONE(j->change(*powercap, "intel-rapl:0/constraint_0_power_limit_uw", "120000000"));
  EXPECT_EQ(t.max_freq(0), "1500000");
  ASSERT_EQ(j->pending().size(), 2u);
  EXPECT_EQ(j->pending()[0].original, "3500000");
  // On disk before anything else happens.
  const std::string on_disk = slurp(journal);
  EXPECT_NE(on_disk.find("\"original\": \"3500000\""), std::string::npos) << on_disk;
  EXPECT_NE(on_disk.find("\"original\": \"200000000\""), std::string::npos) << on_disk;

  DONE(j->restore({cpufreq.get(), powercap.get()}));
  EXPECT_EQ(t.max_freq(0), "3500000");
  EXPECT_EQ(slurp(t.dir.path() / "powercap/intel-rapl:0/constraint_0_power_limit_uw"), "200000000");
  EXPECT_TRUE(j->pending().empty());
  EXPECT_FALSE(std::filesystem::exists(journal));
}

TEST(SettingsJournal, AProcessKilledBeforeItRestoredLeavesTheJournalForTheNextRun) {
  FakeTree t;
  const std::string journal = (t.dir.path() / "settings.journal").string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = cpufreq_writer(t.cpu_root);
    auto j = SettingsJournal::open(journal);
    if (!j || !j->change(*w, "cpu1/scaling_max_freq", "1200000") ||
        !j->change(*w, "cpu1/scaling_governor", "powersave"))
      ::_exit(3);
    ::kill(::getpid(), SIGKILL);  // no restore, no destructor, no atexit
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(t.max_freq(1), "1200000");  // left changed

  auto next = SettingsJournal::open(journal);
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_EQ(next->pending().size(), 2u);
  auto w = cpufreq_writer(t.cpu_root);
  DONE(next->restore({w.get()}));
  EXPECT_EQ(t.max_freq(1), "3500000");
  EXPECT_EQ(slurp(t.dir.path() / "cpu/cpu1/cpufreq/scaling_governor"), "schedutil");
  EXPECT_FALSE(std::filesystem::exists(journal));
}

TEST(SettingsJournal, WhatCannotBeRestoredStaysPendingAndIsNamed) {
  FakeTree t;
  const std::string journal = (t.dir.path() / "settings.journal").string();
  auto cpufreq = cpufreq_writer(t.cpu_root);
  auto powercap = powercap_writer(t.powercap_root);
  auto j = SettingsJournal::open(journal);
  ASSERT_TRUE(j);
  DONE(j->change(*cpufreq, "cpu0/scaling_max_freq", "2000000"));
  DONE(j->change(*powercap, "intel-rapl:0/constraint_0_power_limit_uw", "100000000"));
  auto st = j->restore({cpufreq.get()});  // no powercap writer here
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("powercap intel-rapl:0/constraint_0_power_limit_uw = 200000000"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(t.max_freq(0), "3500000");  // the rest still restored
  ASSERT_EQ(j->pending().size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(journal));
  auto again = SettingsJournal::open(journal);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->pending().size(), 1u);

  std::ofstream(journal) << "{ not json";
  auto bad = SettingsJournal::open(journal);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kParse);
  EXPECT_NE(bad.error().message.find("restore them by hand"), std::string::npos);
  EXPECT_FALSE(cpufreq->write("../escape", "1"));
}

TEST(SettingsJournal, ARunningWritersSettingsAreNotTakenForLeftovers) {
  FakeTree t;
  const std::string journal = (t.dir.path() / "settings.journal").string();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // a sweep holding a setting in force
    auto w = cpufreq_writer(t.cpu_root);
    auto j = SettingsJournal::open(journal);
    if (!j || !j->change(*w, "cpu0/scaling_max_freq", "1200000")) ::_exit(3);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto seen = SettingsJournal::open(journal);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->writer_pid(), static_cast<long>(pid));
  EXPECT_TRUE(seen->writer_alive());
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_FALSE(seen->writer_alive());  // now a leftover
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(SettingsJournal, SettingsAreCheckedBeforeAnythingChanges) {
  FakeTree t;
  EXPECT_TRUE(check_cpu_max_freq(t.cpu_root, 2000000));
  auto high = check_cpu_max_freq(t.cpu_root, 5000000);
  ASSERT_FALSE(high);
  EXPECT_EQ(high.error().code, Errc::kInvalidArgument);
  EXPECT_NE(high.error().message.find("cpu0 runs from 800000 to 3500000 kHz"), std::string::npos)
      << high.error().message;
  EXPECT_TRUE(check_cpu_governor(t.cpu_root, "powersave"));
  auto gov = check_cpu_governor(t.cpu_root, "ondemand");
  ASSERT_FALSE(gov);
  EXPECT_NE(gov.error().message.find("offers performance powersave schedutil"), std::string::npos);
  auto none = check_cpu_max_freq((t.dir.path() / "nothing").string(), 2000000);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kNotFound);
  EXPECT_NE(none.error().message.find("--cpufreq-root"), std::string::npos);
  auto cpus = cpufreq_cpus(t.cpu_root);
  ASSERT_TRUE(cpus);
  EXPECT_EQ(*cpus, (std::vector<std::string>{"cpu0", "cpu1"}));
}

}  // namespace
}  // namespace jouleperf
