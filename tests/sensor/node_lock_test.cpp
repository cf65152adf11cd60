// One measuring process per node, or per GPU: a second process waits for the lock, a
// bounded wait ends naming the holder, and the lock is released when its holder ends.
// Shards restricted to their own GPUs share the node and lock each GPU: disjoint sets hold
// at once, overlapping ones wait, and a node-wide shard waits for them (and they for it).
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
  auto timed = NodeLock::acquire(path, "shard 1/2", 0.2, [&](const NodeLockWait& w) { seen = w.holder; });
  ASSERT_FALSE(timed);
  EXPECT_EQ(timed.error().code, Errc::kTimeout);
  EXPECT_NE(timed.error().message.find("pid 1, shard 0/2"), std::string::npos) << timed.error().message;
  EXPECT_EQ(seen, "pid 1, shard 0/2");

  // An unbounded wait gets the lock once the holder lets go (told to, once we wait).
  bool waited = false;
  auto second = NodeLock::acquire(path, "shard 1/2", std::nullopt, [&](const NodeLockWait&) {
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

// flock conflicts between open files, the same process's included: a NodeLock held here
// stands for another shard.
class GpuLockTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "node.lock").string(); }
  static NodeLockScope gpus(std::vector<std::string> ids) { return NodeLockScope{std::move(ids)}; }
  // A bounded wait for `scope`, recording what it waited for.
  Result<NodeLock> try_lock(const NodeLockScope& scope, double wait_s = 0.0) {
    waits_.clear();
    return NodeLock::acquire(path(), scope, "pid 2, shard 1/2", wait_s,
                             [this](const NodeLockWait& w) { waits_.push_back(w); });
  }
  testing::TempDir dir_;
  std::vector<NodeLockWait> waits_;
};

TEST_F(GpuLockTest, DisjointGpuSetsHoldTheirLocksAtOnce) {
  auto first = NodeLock::acquire(path(), gpus({"GPU-aaaa", "GPU-bbbb"}), "pid 1, shard 0/2", 0.0);
  ASSERT_TRUE(first) << first.error().to_string();
  auto second = try_lock(gpus({"GPU-cccc"}));
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(first->files(), (std::vector<std::string>{path(), path() + ".GPU-aaaa", path() + ".GPU-bbbb"}));
  EXPECT_EQ(second->files(), (std::vector<std::string>{path(), path() + ".GPU-cccc"}));
}

TEST_F(GpuLockTest, AnOverlappingGpuSetWaitsNamingTheGpuAndItsHolder) {
  {
    auto first = NodeLock::acquire(path(), gpus({"GPU-aaaa", "GPU-bbbb"}), "pid 1, shard 0/2", 0.0);
    ASSERT_TRUE(first) << first.error().to_string();
    auto second = try_lock(gpus({"GPU-cccc", "GPU-bbbb"}), 0.2);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::kTimeout);
    EXPECT_NE(second.error().message.find("GPU lock " + path() + ".GPU-bbbb: held by pid 1, shard 0/2"),
              std::string::npos)
        << second.error().message;
    ASSERT_EQ(waits_.size(), 1u);
    EXPECT_EQ(waits_[0].what, "GPU GPU-bbbb");
    EXPECT_EQ(waits_[0].holder, "pid 1, shard 0/2");
  }
  // The first shard gone, and the failed attempt having let go of what it took (the node
  // shared), a node-wide shard gets the node at once.
  auto whole = try_lock(NodeLockScope{});
  EXPECT_TRUE(whole) << whole.error().to_string();
  EXPECT_TRUE(waits_.empty());
}

TEST_F(GpuLockTest, ANodeWideShardWaitsForAGpuHolderAndSaysWhoHoldsWhat) {
  auto gpu_a = NodeLock::acquire(path(), gpus({"GPU-aaaa"}), "pid 1, shard 0/3", 0.0);
  auto gpu_b = NodeLock::acquire(path(), gpus({"GPU-bbbb"}), "pid 3, shard 2/3", 0.0);
  ASSERT_TRUE(gpu_a && gpu_b);
  auto whole = try_lock(NodeLockScope{}, 0.2);
  ASSERT_FALSE(whole);
  EXPECT_EQ(whole.error().code, Errc::kTimeout);
  ASSERT_EQ(waits_.size(), 1u);
  EXPECT_EQ(waits_[0].what, "the node");
  EXPECT_EQ(waits_[0].holder, "GPU-aaaa: pid 1, shard 0/3, GPU-bbbb: pid 3, shard 2/3");
  EXPECT_NE(whole.error().message.find("GPU-bbbb: pid 3, shard 2/3"), std::string::npos) << whole.error().message;
  // A GPU lock nobody holds any more is not named.
  { NodeLock done = std::move(gpu_b).value(); }  // shard 2/3 ends
  (void)try_lock(NodeLockScope{}, 0.0);
  ASSERT_EQ(waits_.size(), 1u);
  EXPECT_EQ(waits_[0].holder, "GPU-aaaa: pid 1, shard 0/3");
}

TEST_F(GpuLockTest, AGpuShardWaitsForANodeWideHolder) {
  auto whole = NodeLock::acquire(path(), "pid 1, shard 0/2, store a.db", 0.0);
  ASSERT_TRUE(whole) << whole.error().to_string();
  auto gpu = try_lock(gpus({"GPU-aaaa"}), 0.2);
  ASSERT_FALSE(gpu);
  EXPECT_EQ(gpu.error().code, Errc::kTimeout);
  ASSERT_EQ(waits_.size(), 1u);
  EXPECT_EQ(waits_[0].what, "the node");
  EXPECT_EQ(waits_[0].holder, "pid 1, shard 0/2, store a.db");
  EXPECT_EQ(waits_[0].path, path());
}

// An unbounded wait for a GPU ends when its holder (a child process) lets go.
TEST_F(GpuLockTest, AnUnboundedWaitForAGpuGetsItWhenTheHolderEnds) {
  int locked[2], release[2];
  ASSERT_EQ(::pipe(locked), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    auto lock = NodeLock::acquire(path(), gpus({"GPU-aaaa"}), "pid 1, shard 0/2", std::nullopt);
    const char c = lock ? 'L' : 'E';
    (void)!::write(locked[1], &c, 1);
    char r = 0;
    (void)!::read(release[0], &r, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(locked[0], &c, 1), 1);
  ASSERT_EQ(c, 'L');
  std::string seen;
  auto lock =
      NodeLock::acquire(path(), gpus({"GPU-aaaa", "GPU-bbbb"}), "shard 1/2", std::nullopt, [&](const NodeLockWait& w) {
        seen = w.what + ": " + w.holder;
        const char r = 'R';
        (void)!::write(release[1], &r, 1);
      });
  ASSERT_TRUE(lock) << lock.error().to_string();
  EXPECT_EQ(seen, "GPU GPU-aaaa: pid 1, shard 0/2");
  int status = 0;
  ASSERT_EQ(::waitpid(holder, &status, 0), holder);
  for (int fd : {locked[0], locked[1], release[0], release[1]}) ::close(fd);
}

SensorInfo nvml_gpu(unsigned index, std::string uuid) {
  SensorInfo s;
  s.name = "nvml";
  s.domain = "gpu:" + std::to_string(index);
  s.device_uuid = std::move(uuid);
  return s;
}

TEST(NodeLockScope, OnlyRestrictedNvmlGpusLockByGpu) {
  const std::vector<SensorInfo> gpus = {nvml_gpu(3, "GPU-bbbb"), nvml_gpu(1, "GPU-aaaa"), nvml_gpu(2, "")};
  EXPECT_EQ(node_lock_scope(gpus, true).gpus, (std::vector<std::string>{"GPU-aaaa", "GPU-bbbb", "gpu-2"}));
  EXPECT_TRUE(node_lock_scope(gpus, false).whole_node());  // every GPU NVML sees: the node
  SensorInfo rapl;
  rapl.name = "rapl";
  rapl.domain = "cpu-package:0";
  auto with_rapl = gpus;
  with_rapl.push_back(rapl);
  EXPECT_TRUE(node_lock_scope(with_rapl, true).whole_node());  // RAPL sees the whole node
  SensorInfo model;
  model.name = "cpu-model";
  model.domain = "cpu-model:all";
  EXPECT_TRUE(node_lock_scope({model}, true).whole_node());
  EXPECT_TRUE(node_lock_scope({}, true).whole_node());
}

}  // namespace
}  // namespace jouleperf
