// `jouleperf measure` and `jouleperf sensors` as a user runs them: the real program,
// the CPU-time model on this machine (or whatever sensor is readable where it runs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

extern char** environ;

namespace jouleperf {
namespace {

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct Signal {
  int sig = 0;                       // sent once `ready` holds; 0 = none
  std::function<bool(pid_t)> ready;  // a condition on the running jouleperf, never a delay
  bool sent = false;                 // set by run_cli: `ready` held and the signal went out
};

// Runs jouleperf with args, stdout/stderr to files; optionally sends a signal once a
// condition holds (the hang bound of wait_until kills it instead).
Run run_cli(std::vector<std::string> args, Signal* signal = nullptr) {
  testing::TempDir dir;
  const auto out = (dir.path() / "out").string(), err = (dir.path() / "err").string();
  args.insert(args.begin(), JP_CLI_PATH);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  Run r;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return r;
  posix_spawn_file_actions_destroy(&fa);
  if (signal != nullptr && signal->sig != 0) {
    signal->sent = testing::wait_until([&] { return signal->ready(pid); });
    kill(pid, signal->sent ? signal->sig : SIGKILL);
  }
  int status = 0;
  // A lost signal would leave the command sleeping: the hang bound ends it (exit 137).
  if (!testing::wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; })) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::stringstream so, se;
  so << std::ifstream(out).rdbuf();
  se << std::ifstream(err).rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

TEST(MeasureCli, ReturnsTheCommandsExitCodeAndWritesJson) {
  auto r =
      run_cli({"measure", "--json", "-", "--", "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"energy_j", "duration_s", "power_w", "energy_source", "estimated", "domains"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_GT(j["energy_j"].get<double>(), 0.0);
  EXPECT_GT(j["duration_s"].get<double>(), 0.0);
  EXPECT_GE(j["domains"].size(), 1u);
  if (j["estimated"].get<bool>()) {
    EXPECT_EQ(j["energy_source"], "cpu-time-model");
    EXPECT_NE(r.err.find("ESTIMATED"), std::string::npos);  // said plainly in the terminal too
  }
  EXPECT_NE(r.err.find("Energy stats for"), std::string::npos);
}

TEST(MeasureCli, ForwardsATerminationSignalAndStillReportsWhatItMeasured) {
  // The command marks that it runs (a file), then sleeps; the signal goes out only once
  // the mark exists, so it always finds the child running, however slow the start.
  testing::TempDir dir;
  const std::string mark = (dir.path() / "running").string();
  Signal term{SIGTERM, [&](pid_t) { return testing::file_exists(mark); }};
  auto r = run_cli({"measure", "--json", "-", "--", "sh", "-c", ": > \"$0\"; exec sleep 300", mark}, &term);
  ASSERT_TRUE(term.sent) << "the command never started: " << r.err;
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;  // the child died of the forwarded signal
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["exit_code"], 128 + SIGTERM);
  EXPECT_EQ(j["command"][0], "sh");
  for (const char* k : {"energy_j", "duration_s", "domains"}) EXPECT_TRUE(j.contains(k)) << k;
}

// True when `pid`'s main thread has no child process (the list in /proc is readable and
// empty): jouleperf has not started the command yet.
bool has_no_child(pid_t pid) {
  const std::string p = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children";
  std::ifstream in(p);
  if (!in) return false;
  std::string first;
  return !(in >> first);
}

TEST(MeasureCli, ASignalBeforeTheCommandStartsIsForwardedOnceItDoes) {
  // Sent once jouleperf handles SIGTERM and has not started the command: during the 2 s
  // idle baseline that precedes it. The signal must wait for the command, which dies of
  // it, and the JSON must still come out. (Before the fix the handler was installed only
  // just before the command started, so that state never showed and the hang bound
  // ended the wait; a signal sent earlier killed jouleperf with no JSON.) Were the
  // signal lost, the command would sleep on and the hang bound would end it (exit 137).
  Signal term{SIGTERM, [](pid_t pid) { return testing::process_catches(pid, SIGTERM) && has_no_child(pid); }};
  auto r = run_cli({"measure", "--idle", "2", "--json", "-", "--", "sleep", "300"}, &term);
  ASSERT_TRUE(term.sent) << "jouleperf never handled SIGTERM before starting the command: " << r.err;
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["exit_code"], 128 + SIGTERM);
  EXPECT_EQ(j["command"][0], "sleep");
}

TEST(MeasureCli, UnknownSensorIsAOneLineError) {
  auto r = run_cli({"measure", "--sensor", "bogus", "--", "true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown sensor 'bogus'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(MeasureCli, AnUnreachableExporterIsAOneLineErrorNamingIt) {
  // Port 1 on loopback: nothing listens there; the connection is refused at once.
  auto r = run_cli({"measure", "--prometheus", "http://127.0.0.1:1/metrics", "--", "true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("http://127.0.0.1:1/metrics"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(MeasureCli, AProgramThatCannotBeFoundExits127) {
  auto r = run_cli({"measure", "--", "/nonexistent/jouleperf-cmd"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("cannot run"), std::string::npos);
}

TEST(SensorsCli, ListsAtLeastOneSensorAndWhyOthersAreNotUsable) {
  auto r = run_cli({"sensors", "--json", "--window", "0.1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j["sensors"].size(), 1u);
  const auto& s = j["sensors"][0];
  for (const char* k : {"name", "domain", "energy_counter", "power", "estimated", "live_power_w"})
    EXPECT_TRUE(s.contains(k)) << k;
  for (const auto& u : j["unavailable"]) {
    EXPECT_FALSE(u["message"].get<std::string>().empty());
    EXPECT_FALSE(u["error"].get<std::string>().empty());
  }
}

TEST(SensorsCli, EnvironmentMirrorsFlags) {
  ASSERT_EQ(setenv("JOULEPERF_SENSOR", "cpu-model", 1), 0);
  auto r = run_cli({"sensors", "--json", "--window", "0.05"});
  unsetenv("JOULEPERF_SENSOR");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["sensors"].size(), 1u);
  EXPECT_EQ(j["sensors"][0]["name"], "cpu-model");
}

}  // namespace
}  // namespace jouleperf
