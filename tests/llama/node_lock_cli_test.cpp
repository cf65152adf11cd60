// Two measured shards started at once on one node (issue 18, "one meter per node"): the
// node lock makes the second wait, so no interval is measured while the other shard runs
// (the CPU-time model, like RAPL and NVML, sees the whole node).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "jouleperf/study/store.hpp"
#include "llama/tiny_model.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

struct Window {
  double first_start = 1e300, last_end = 0;
};

// From a shard's store: the first repetition's start and the last cell's end, epoch s.
Window window_of(const std::string& db) {
  Window w;
  auto store = study::Store::open(db, study::StoreMode::kReadOnly);
  EXPECT_TRUE(store) << db;
  if (!store) return w;
  auto cells = store->cells();
  EXPECT_TRUE(cells);
  if (!cells) return w;
  for (const auto& c : *cells) {
    for (const auto& r : c.reps) w.first_start = std::min(w.first_start, r.started_unix_s);
    w.last_end = std::max(w.last_end, c.finished_unix_s);
  }
  return w;
}

TEST(NodeLockCli, TwoShardsStartedAtOnceNeverMeasureTogether) {
  testing::TempDir dir;
  const std::string d = dir.path().string();
  const std::string base = std::string(JP_CLI_PATH) + " sweep --model " + testing::tiny_model() +
                           " --threads 1 -I 8,16 -O 4 -B 1 --reps 2 --warmup 0 --sensor cpu-model --no-progress" +
                           " --node-lock " + d + "/node.lock --store " + d + "/shard-{shard}.db";
  // Both at once, as two array tasks on one node would be.
  const std::string cmd = "(" + base + " --shard 0/2 > " + d + "/0.out 2> " + d + "/0.err & " + base +
                          " --shard 1/2 > " + d + "/1.out 2> " + d + "/1.err & wait)";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Window a = window_of(d + "/shard-0.db"), b = window_of(d + "/shard-1.db");
  ASSERT_GT(a.last_end, 0.0);
  ASSERT_GT(b.last_end, 0.0);
  // One ran wholly before the other.
  EXPECT_TRUE(a.last_end <= b.first_start || b.last_end <= a.first_start)
      << "shard 0 measured " << a.first_start << ".." << a.last_end << ", shard 1 " << b.first_start << ".."
      << b.last_end;
  // The one that waited said so, naming the other.
  std::stringstream errs;
  for (const char* f : {"/0.err", "/1.err"}) errs << std::ifstream(d + f).rdbuf();
  EXPECT_NE(errs.str().find("waiting for the node"), std::string::npos) << errs.str();
}

}  // namespace
}  // namespace jouleperf
