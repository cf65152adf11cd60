// `jouleperf sweep` killed with SIGKILL at random moments and resumed: the resumed store
// must hold exactly the cells of an uninterrupted run, none lost, none run twice. Also
// shards + `jouleperf merge`, as a user runs them. The sim engine keeps each cell fast.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "jouleperf/study/store.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

extern char** environ;

namespace jouleperf {
namespace {

using study::CellKey;
using study::CellResult;

constexpr const char* kStudy = R"(name: crash
configs:
  - name: a100-vllm
    engine: sim
    model: Llama-3.1-8B
    settings: {hardware: a100-sxm, stack: vllm}
  - name: a100-eager
    engine: sim
    model: Llama-3.1-8B
    baseline: true
    settings: {hardware: a100-sxm, stack: hf-eager}
inputs: [128, 512, 2048]
outputs: [32, 128]
batches: [1, 8, 4096]
warmup: 1
repetitions: 2
)";
constexpr std::size_t kCells = 2 * 3 * 2 * 3;

struct Child {
  pid_t pid = -1;
  std::string out, err;  // paths
};

Child spawn_cli(std::vector<std::string> args, const std::filesystem::path& dir, const std::string& tag) {
  Child c;
  c.out = (dir / (tag + ".out")).string();
  c.err = (dir / (tag + ".err")).string();
  args.insert(args.begin(), JP_CLI_PATH);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return c;
}

std::string slurp(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

// Waits for the child; its exit code, or 128 + signal.
int wait_child(const Child& c) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

CliRun run_cli(const std::vector<std::string>& args, const std::filesystem::path& dir, const std::string& tag) {
  Child c = spawn_cli(args, dir, tag);
  if (c.pid < 0) return {};
  CliRun r;
  r.exit_code = wait_child(c);
  r.out = slurp(c.out);
  r.err = slurp(c.err);
  return r;
}

// Cells stored so far, read from another process's store without writing to it;
// -1 while the store does not exist yet.
long stored_cells(const std::string& path) {
  sqlite3* db = nullptr;
  long n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM cells", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

std::map<CellKey, CellResult> cells_of(const std::string& path) {
  std::map<CellKey, CellResult> out;
  auto s = study::Store::open(path);
  EXPECT_TRUE(s) << s.error().to_string();
  if (!s) return out;
  auto cells = s->cells();
  EXPECT_TRUE(cells) << cells.error().to_string();
  if (!cells) return out;
  for (auto& c : *cells) out.emplace(c.key, c);
  return out;
}

std::vector<std::string> sweep_args(const std::string& study, const std::string& store,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"sweep", study, "--store", store, "--no-progress"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

void expect_same_cells(const std::map<CellKey, CellResult>& got, const std::map<CellKey, CellResult>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, w] : want) {
    auto it = got.find(key);
    ASSERT_NE(it, got.end()) << study::to_string(key) << " is missing";
    EXPECT_EQ(it->second.status, w.status) << study::to_string(key);
    ASSERT_EQ(it->second.reps.size(), w.reps.size()) << study::to_string(key);
    for (std::size_t i = 0; i < w.reps.size(); ++i)
      EXPECT_DOUBLE_EQ(it->second.reps[i].energy_j, w.reps[i].energy_j) << study::to_string(key);
  }
}

TEST(SweepCrash, KilledAtRandomCellsAndResumedMatchesAnUninterruptedRun) {
  testing::TempDir dir;
  const std::string study = dir.write("study.yaml", kStudy).string();
  const std::string ref_path = (dir.path() / "ref.db").string();
  const CliRun ref_run = run_cli(sweep_args(study, ref_path), dir.path(), "ref");
  ASSERT_EQ(ref_run.exit_code, 0) << ref_run.err;
  const auto ref = cells_of(ref_path);
  ASSERT_EQ(ref.size(), kCells);
  std::size_t skipped = 0;
  for (const auto& [k, c] : ref) skipped += c.status == study::CellStatus::kSkipped;
  EXPECT_GT(skipped, 0u) << "batch 4096 does not fit an A100 and must be recorded as skipped";
  EXPECT_LT(skipped, kCells);

  const unsigned seed = std::getenv("JP_CRASH_SEED") ? static_cast<unsigned>(std::atoi(std::getenv("JP_CRASH_SEED")))
                                                     : std::random_device{}();
  SCOPED_TRACE("JP_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  // Rounds go on until four kills have landed while the sweep ran (a kill that comes
  // after a sweep finished, possible on a loaded machine, proves nothing and does not
  // count); 16 rounds bound it.
  int killed_mid_run = 0;
  for (int round = 0; round < 16 && killed_mid_run < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string path = (dir.path() / ("crash" + std::to_string(round) + ".db")).string();
    const long k = std::uniform_int_distribution<long>(1, static_cast<long>(kCells) - 2)(rng);
    const auto extra_us = std::uniform_int_distribution<int>(0, 8000)(rng);
    // A small idle gap between cells leaves time to land the kill anywhere in the sweep.
    Child child = spawn_cli(sweep_args(study, path, {"--idle-gap", "0.01"}), dir.path(), "crash");
    ASSERT_GT(child.pid, 0);
    // Wait on the store (k cells written) or the child's exit; the bound only stops a hang.
    bool exited = false;
    int status = 0;
    const bool reached = testing::wait_until([&] {
      exited = exited || waitpid(child.pid, &status, WNOHANG) == child.pid;
      return exited || stored_cells(path) >= k;
    });
    if (exited) {
      // Polled too late (a loaded machine): the sweep finished first. Not a crash round.
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "sweep failed: " << slurp(child.err);
      continue;
    }
    if (!reached) {
      kill(child.pid, SIGKILL);
      wait_child(child);
    }
    ASSERT_TRUE(reached) << "no " << k << " cells stored within the hang bound";
    // A random extra moment, so that the kill lands anywhere inside a cell (not a wait).
    std::this_thread::sleep_for(std::chrono::microseconds(extra_us));
    kill(child.pid, SIGKILL);
    const int code = wait_child(child);
    if (code == 128 + SIGKILL) ++killed_mid_run;

    const auto before = cells_of(path);
    EXPECT_GE(before.size(), static_cast<std::size_t>(k));
    for (const auto& [key, c] : before) {
      ASSERT_TRUE(ref.count(key)) << study::to_string(key);
      EXPECT_EQ(c.reps.size(), ref.at(key).reps.size()) << "a half-written cell: " << study::to_string(key);
    }

    const CliRun resumed = run_cli(sweep_args(study, path, {"--idle-gap", "0"}), dir.path(), "resume");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    std::size_t to_measure = 0;
    for (const auto& [key, c] : ref) to_measure += !before.count(key) && c.status == study::CellStatus::kDone;
    EXPECT_NE(resumed.out.find(std::to_string(before.size()) + " already stored, " + std::to_string(to_measure) +
                               " measured"),
              std::string::npos)
        << resumed.out;
    const auto after = cells_of(path);
    expect_same_cells(after, ref);
    // Cells stored before the kill were not run again: same time of storing.
    for (const auto& [key, c] : before)
      EXPECT_DOUBLE_EQ(after.at(key).finished_unix_s, c.finished_unix_s) << study::to_string(key) << " ran twice";
  }
  EXPECT_EQ(killed_mid_run, 4) << "in 16 rounds, fewer than 4 kills landed while the sweep ran";
}

TEST(SweepCrash, ShardsMergeIntoTheWholeGrid) {
  testing::TempDir dir;
  const std::string study = dir.write("study.yaml", kStudy).string();
  const std::string ref_path = (dir.path() / "ref.db").string();
  ASSERT_EQ(run_cli(sweep_args(study, ref_path), dir.path(), "ref").exit_code, 0);
  std::vector<std::string> merge = {"merge", (dir.path() / "merged.db").string()};
  std::size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string shard = (dir.path() / ("shard" + std::to_string(i) + ".db")).string();
    const CliRun r = run_cli(sweep_args(study, shard, {"--shard", std::to_string(i) + "/3"}), dir.path(), "shard");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto cells = cells_of(shard);
    EXPECT_EQ(cells.size(), kCells / 3);
    total += cells.size();
    merge.push_back(shard);
  }
  EXPECT_EQ(total, kCells);
  const CliRun m = run_cli(merge, dir.path(), "merge");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.out.find(std::to_string(kCells) + " cells"), std::string::npos) << m.out;
  expect_same_cells(cells_of((dir.path() / "merged.db").string()), cells_of(ref_path));

  // A store made under another definition of a config does not merge.
  std::string changed = kStudy;
  changed.replace(changed.find("stack: vllm"), 11, "stack: hf-compiled");
  const std::string changed_study = dir.write("changed.yaml", changed).string();
  const std::string changed_store = (dir.path() / "changed.db").string();
  ASSERT_EQ(run_cli(sweep_args(changed_study, changed_store, {"--shard", "0/3"}), dir.path(), "ch").exit_code, 0);
  const CliRun bad = run_cli({"merge", (dir.path() / "bad.db").string(), ref_path, changed_store}, dir.path(), "bad");
  EXPECT_EQ(bad.exit_code, 2);
  // Its shard record names another study (the config's key is part of the fingerprint).
  EXPECT_NE(bad.err.find("stores of different studies"), std::string::npos) << bad.err;
  // Nor does the sweep resume into it.
  const CliRun resume = run_cli(sweep_args(study, changed_store), dir.path(), "res");
  EXPECT_NE(resume.exit_code, 0);
  EXPECT_NE(resume.err.find("a100-vllm"), std::string::npos) << resume.err;
}

TEST(SweepCrash, FlagsMakeAOneConfigGridAndBadFlagsAreUsageErrors) {
  testing::TempDir dir;
  const std::string store = (dir.path() / "s.db").string();
  const CliRun r = run_cli(
      {"sweep", "--store",      store, "--engine", "sim", "--model", "Llama-3.1-8B", "--setting", "hardware=h100-sxm",
       "-I",    "128,256",      "-O",  "16",       "-B",  "1..4",    "--reps",       "1",         "--warmup",
       "0",     "--no-progress"},
      dir.path(), "flags");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("cell 6/6 default I=256 O=16 B=4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("SIMULATED"), std::string::npos) << r.err;
  EXPECT_EQ(cells_of(store).size(), 6u);

  EXPECT_EQ(run_cli({"sweep", "--store", store, "--engine", "sim", "-I", "0"}, dir.path(), "e1").exit_code, 2);
  EXPECT_EQ(run_cli({"sweep", "--store", store, "--engine", "sim", "--shard", "3/3"}, dir.path(), "e2").exit_code, 2);
  const std::string bad = dir.write("bad.yaml", "configs:\n  - name: a\n    engin: sim\n").string();
  const CliRun b = run_cli({"sweep", bad, "--store", store}, dir.path(), "e3");
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("bad.yaml:3: configs[0].engin: unknown key"), std::string::npos) << b.err;
}

}  // namespace
}  // namespace jouleperf
