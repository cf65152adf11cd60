// Two measured shards started at once on one node (issue 18, "one meter per node"): the
// node lock makes the second wait, so no interval is measured while the other shard runs
// (the CPU-time model, like RAPL and NVML over every GPU, sees the whole node). Shards
// restricted to disjoint GPUs by CUDA_VISIBLE_DEVICES (the fake NVML's two GPUs) both run,
// each measuring only its own GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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

// Two GPUs, each a counter (100 mJ a read), in the fake NVML's script language.
constexpr const char* kTwoGpus =
    "driver 550.54.15\n"
    "gpu energy_mj=1000,100 power_mw=100000 uuid=GPU-aaaaaaaa-0000-0000-0000-000000000000 name=Fake A\n"
    "gpu energy_mj=1000,100 power_mw=100000 uuid=GPU-bbbbbbbb-0000-0000-0000-000000000000 name=Fake B\n";

// Runs shards 0/2 and 1/2 of one grid at once with --sensor nvml on the fake NVML, shard i
// with the environment `env[i]` (e.g. "CUDA_VISIBLE_DEVICES=0"); returns both stderrs.
std::string run_two_nvml_shards(const std::string& d, const std::string (&env)[2]) {
  const auto script = std::filesystem::path(d) / "nvml.txt";
  std::ofstream(script) << kTwoGpus;
  const std::string base = std::string(JP_CLI_PATH) + " sweep --model " + testing::tiny_model() +
                           " --threads 1 -I 8,16 -O 4 -B 1 --reps 2 --warmup 0 --sensor nvml --nvml-lib " +
                           JP_FAKE_NVML_LIB + " --no-progress --node-lock " + d + "/node.lock --store " + d +
                           "/shard-{shard}.db";
  std::string cmd = "(";
  for (int i = 0; i < 2; ++i)
    cmd += "env -u CUDA_VISIBLE_DEVICES FAKE_NVML_SCRIPT=" + script.string() + " " + env[i] + " " + base + " --shard " +
           std::to_string(i) + "/2 > " + d + "/" + std::to_string(i) + ".out 2> " + d + "/" + std::to_string(i) +
           ".err & ";
  cmd += "wait)";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::stringstream errs;
  for (const char* f : {"/0.err", "/1.err"}) errs << std::ifstream(d + f).rdbuf();
  return errs.str();
}

// Every cell's sensor conditions in a shard's store.
std::vector<nlohmann::json> sensor_conditions(const std::string& db) {
  std::vector<nlohmann::json> out;
  auto store = study::Store::open(db, study::StoreMode::kReadOnly);
  EXPECT_TRUE(store) << db;
  if (!store) return out;
  auto cells = store->cells();
  EXPECT_TRUE(cells);
  if (!cells) return out;
  for (const auto& c : *cells) out.push_back(c.conditions.value("sensor", nlohmann::json::object()));
  return out;
}

TEST(NodeLockCli, TwoShardsOnEveryGpuNeverMeasureTogether) {
  testing::TempDir dir;
  const std::string d = dir.path().string();
  const std::string errs = run_two_nvml_shards(d, {"", ""});
  const Window a = window_of(d + "/shard-0.db"), b = window_of(d + "/shard-1.db");
  ASSERT_GT(a.last_end, 0.0) << errs;
  ASSERT_GT(b.last_end, 0.0) << errs;
  EXPECT_TRUE(a.last_end <= b.first_start || b.last_end <= a.first_start)
      << "shard 0 measured " << a.first_start << ".." << a.last_end << ", shard 1 " << b.first_start << ".."
      << b.last_end;
  EXPECT_NE(errs.find("waiting for the node"), std::string::npos) << errs;
  // Both measured both GPUs.
  for (const char* db : {"/shard-0.db", "/shard-1.db"})
    for (const auto& s : sensor_conditions(d + db)) {
      EXPECT_EQ(s.value("gpu:0.uuid", ""), "GPU-aaaaaaaa-0000-0000-0000-000000000000") << s.dump();
      EXPECT_EQ(s.value("gpu:1.uuid", ""), "GPU-bbbbbbbb-0000-0000-0000-000000000000") << s.dump();
      EXPECT_EQ(s.value("gpu:0.driver_version", ""), "550.54.15") << s.dump();
    }
}

TEST(NodeLockCli, ShardsOnDisjointGpusBothRunEachMeasuringItsOwn) {
  testing::TempDir dir;
  const std::string d = dir.path().string();
  // One by index, one by a UUID prefix, as Slurm's and Kubernetes' device plugins set them.
  const std::string errs = run_two_nvml_shards(d, {"CUDA_VISIBLE_DEVICES=0", "CUDA_VISIBLE_DEVICES=GPU-bbbbbbbb"});
  EXPECT_EQ(errs.find("waiting"), std::string::npos) << errs;  // neither waited for the other
  const Window a = window_of(d + "/shard-0.db"), b = window_of(d + "/shard-1.db");
  ASSERT_GT(a.last_end, 0.0) << errs;
  ASSERT_GT(b.last_end, 0.0) << errs;
  const auto s0 = sensor_conditions(d + "/shard-0.db"), s1 = sensor_conditions(d + "/shard-1.db");
  ASSERT_FALSE(s0.empty());
  ASSERT_FALSE(s1.empty());
  for (const auto& s : s0) {
    EXPECT_EQ(s.value("gpu:0.uuid", ""), "GPU-aaaaaaaa-0000-0000-0000-000000000000") << s.dump();
    EXPECT_FALSE(s.contains("gpu:1.uuid")) << s.dump();
  }
  for (const auto& s : s1) {
    EXPECT_EQ(s.value("gpu:1.uuid", ""), "GPU-bbbbbbbb-0000-0000-0000-000000000000") << s.dump();
    EXPECT_FALSE(s.contains("gpu:0.uuid")) << s.dump();
  }
  // Each held its GPU's lock beside the node lock.
  EXPECT_TRUE(std::filesystem::exists(d + "/node.lock.GPU-aaaaaaaa-0000-0000-0000-000000000000"));
  EXPECT_TRUE(std::filesystem::exists(d + "/node.lock.GPU-bbbbbbbb-0000-0000-0000-000000000000"));
}

}  // namespace
}  // namespace jouleperf
