// One measuring process per node: a second process waits for the lock, a bounded wait
// ends naming the holder, and the lock is released when its holder ends.
#include "jouleperf/sensor/node_lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

// A child holds the lock (flock belongs to the open file, which a fork shares: the
// parent takes the lock only after forking). Pipes order the steps, no sleeps.
TEST(NodeLock, ASecondHolderWaitsAndABoundedWaitNamesTheHolder) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "run" / "node.lock").string();
  int locked[2], release[2];
  ASSERT_EQ(::pipe(locked), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    auto lock = NodeLock::acquire(path, "pid 1, shard 0/2", std::nullopt);
    const char c = lock ? 'L' : 'E';
    (void)!::write(locked[1], &c, 1);
    char r = 0;
    (void)!::read(release[0], &r, 1);  // until the parent says so
    ::_exit(0);                        // exiting releases the lock
  }
  char c = 0;
  ASSERT_EQ(::read(locked[0], &c, 1), 1);
  ASSERT_EQ(c, 'L') << "the child could not take the lock";

  // A bounded wait ends naming the holder.
  std::string seen;
  auto timed = NodeLock::acquire(path, "shard 1/2", 0.2, [&](std::string_view h) { seen = h; });
  ASSERT_FALSE(timed);
  EXPECT_EQ(timed.error().code, Errc::kTimeout);
  EXPECT_NE(timed.error().message.find("pid 1, shard 0/2"), std::string::npos) << timed.error().message;
  EXPECT_EQ(seen, "pid 1, shard 0/2");

  // An unbounded wait gets the lock once the holder lets go (told to, once we wait).
  bool waited = false;
  auto second = NodeLock::acquire(path, "shard 1/2", std::nullopt, [&](std::string_view) {
    waited = true;
    const char r = 'R';
    (void)!::write(release[1], &r, 1);
  });
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_TRUE(waited);
  int status = 0;
  ASSERT_EQ(::waitpid(holder, &status, 0), holder);
  for (int fd : {locked[0], locked[1], release[0], release[1]}) ::close(fd);
}

TEST(NodeLock, AnUnwritablePlaceSaysWhatToDo) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  auto r = NodeLock::acquire("/proc/jouleperf/node.lock", "x", 0.0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--node-lock"), std::string::npos);
}

TEST(NodeLock, AFileThatCannotBeMadeIsAnErrorNamingIt) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "plain").string();
  { auto f = NodeLock::acquire(file, "x", 0.0); }  // a regular file where a directory is needed below
  auto r = NodeLock::acquire(file + "/node.lock", "x", 0.0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(file), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("--node-lock"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
