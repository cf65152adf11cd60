// Issue 12, "The store": one writer at a time, readers that never write (and work on a
// read-only directory), files that are not stores left untouched, model paths stored
// canonical, and a study checked completely before its configuration reaches the store.
#include "jouleperf/study/store.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "jouleperf/study/config_check.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct CliRun {
  int rc = -1;
  std::string out;  // stdout and stderr together
};

// Runs `cmd` through /bin/sh in a child; with `as_nobody` the child drops root to uid/gid
// 65534 first, so file permissions apply (the tests may run as root). rc 77: could not drop.
CliRun sh(const std::string& cmd, bool as_nobody = false) {
  CliRun r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  const pid_t pid = fork();
  if (pid < 0) return r;
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[1]);
    if (as_nobody && geteuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
    }
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::array<char, 65536> buf{};
  ssize_t n = 0;
  while ((n = read(fds[0], buf.data(), buf.size())) > 0) r.out.append(buf.data(), static_cast<std::size_t>(n));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string cli() { return std::string(JP_CLI_PATH); }

// A one-config simulated sweep into `store` (fast: no sensor, no model file).
CliRun sim_sweep(const std::string& store, const std::string& extra = "") {
  return sh(cli() + " sweep --store " + store +
            " --config-name sim --engine sim --model Llama-3.2-1B --setting hardware=h100-sxm -I 32,128 -O 8,16 -B 2 "
            "--reps 1 --warmup 0 --no-progress " +
            extra);
}

// ---- one writer at a time ----

TEST(HostileStore, SecondWriterGetsAClearErrorAndWritesNothing) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  auto first = study::Store::open(path);
  ASSERT_TRUE(first) << first.error().to_string();
  // In this process.
  auto second = study::Store::open(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kTimeout);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(getpid())), std::string::npos)
      << second.error().message;
  // Another process: a sweep refuses, naming this process.
  const CliRun r = sim_sweep(path);
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("another jouleperf process (pid " + std::to_string(getpid()) + ")"), std::string::npos) << r.out;
  auto configs = first->configs();
  ASSERT_TRUE(configs);
  EXPECT_TRUE(configs->empty());
  // A reader is never blocked by the writer.
  auto reader = study::Store::open(path, study::StoreMode::kReadOnly);
  ASSERT_TRUE(reader) << reader.error().to_string();
  EXPECT_FALSE(reader->put_config(study::Config{}));
  // Once the writer is gone, the next one gets the store.
  first = study::Store::open((dir.path() / "other.db").string());
  const CliRun again = sim_sweep(path);
  EXPECT_EQ(again.rc, 0) << again.out;
}

// ---- readers never write ----

TEST(HostileStore, ReportAndEstimateWorkOnAReadOnlyDirectory) {
  testing::TempDir dir;
  const fs::path ro = dir.path() / "ro";
  fs::create_directories(ro);
  const std::string store = (ro / "s.db").string();
  const CliRun made = sim_sweep(store);
  ASSERT_EQ(made.rc, 0) << made.out;
  const fs::path trace = dir.write("t.csv", "in,out\n32,8\n100,16\n");
  // Read-only for everyone, and the commands run as an unprivileged user (root ignores modes).
  fs::permissions(store, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(dir.path(), fs::perms::all);
  fs::permissions(trace, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const std::string before = slurp(store);
  const auto listing = [&] {
    std::string names;
    for (const auto& e : fs::directory_iterator(ro)) names += e.path().filename().string() + " ";
    return names;
  };
  const std::string files_before = listing();
  const CliRun report = sh(cli() + " report --store " + store + " --format json", true);
  if (report.rc == 77) GTEST_SKIP() << "cannot drop to an unprivileged user here";
  EXPECT_EQ(report.rc, 0) << report.out;
  EXPECT_NE(report.out.find("\"cells\""), std::string::npos) << report.out;
  const CliRun est = sh(
      cli() + " estimate --store " + store + " --trace " + trace.string() + " --input-col in --output-col out", true);
  EXPECT_EQ(est.rc, 0) << est.out;
  EXPECT_EQ(slurp(store), before);
  EXPECT_EQ(listing(), files_before);
  // Storing the estimate needs write access: a clear error, not a crash.
  const CliRun save = sh(
      cli() + " estimate --store " + store + " --trace " + trace.string() + " --input-col in --output-col out --save",
      true);
  EXPECT_NE(save.rc, 0) << save.out;
  fs::permissions(ro, fs::perms::owner_all);
}

// ---- files that are not stores ----

TEST(HostileStore, AnEmptyFileIsNeverModified) {
  testing::TempDir dir;
  const fs::path empty = dir.write("empty.db", "");
  const CliRun r = sh(cli() + " report --store " + empty.string() + " --format json");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("not a jouleperf results store"), std::string::npos) << r.out;
  EXPECT_EQ(fs::file_size(empty), 0u);
  auto reader = study::Store::open(empty.string(), study::StoreMode::kReadOnly);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, Errc::kParse);
  EXPECT_EQ(fs::file_size(empty), 0u);
  const CliRun est = sh(cli() + " estimate --store " + empty.string() + " --trace /nonexistent");
  EXPECT_NE(est.rc, 0);
  EXPECT_EQ(fs::file_size(empty), 0u);
}

TEST(HostileStore, RandomBytesAndOtherDatabasesAreRefusedUntouched) {
  testing::TempDir dir;
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919 + 13) & 0xff);
  const fs::path junk = dir.write("junk.db", noise);
  // Writers refuse it too.
  auto w = study::Store::open(junk.string());
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Errc::kParse);
  EXPECT_NE(sim_sweep(junk.string()).rc, 0);
  EXPECT_NE(sh(cli() + " report --store " + junk.string()).rc, 0);
  EXPECT_EQ(slurp(junk), noise);
  // "SQLite format 3" then garbage: still not a store, still untouched.
  std::string fake = std::string("SQLite format 3\0", 16) + noise;
  const fs::path half = dir.write("half.db", fake);
  EXPECT_FALSE(study::Store::open(half.string()));
  EXPECT_FALSE(study::Store::open(half.string(), study::StoreMode::kReadOnly));
  EXPECT_EQ(slurp(half), fake);
}

// ---- model paths ----

TEST(HostileStore, ModelPathsAreStoredCanonical) {
  testing::TempDir dir;
  dir.write("models/m.gguf", "not really a model");
  const std::string store = (dir.path() / "s.db").string();
  // From the model's directory, with a relative path: the engine fails to load the file,
  // but the config reached the store with the absolute path.
  const CliRun r = sh("cd " + (dir.path() / "models").string() + " && " + cli() + " sweep --store " + store +
                      " --engine llamacpp --model ./m.gguf -I 32 -O 8 -B 1 --reps 1 --warmup 0 --no-progress "
                      "--sensor cpu-model");
  EXPECT_NE(r.rc, 0);
  auto s = study::Store::open(store, study::StoreMode::kReadOnly);
  ASSERT_TRUE(s) << s.error().to_string();
  auto configs = s->configs();
  ASSERT_TRUE(configs);
  ASSERT_EQ(configs->size(), 1u) << r.out;
  EXPECT_EQ((*configs)[0].model, fs::weakly_canonical(dir.path() / "models" / "m.gguf").string());
}

TEST(HostileStore, ResumeWithAnotherSpellingOfTheSameModelMatches) {
  testing::TempDir dir;
  const fs::path model = dir.write("m.gguf", "x");
  const fs::path other = dir.write("n.gguf", "y");
  const std::string path = (dir.path() / "s.db").string();
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  study::Config old;
  old.name = "base";
  old.model = "m.gguf";  // as an older jouleperf stored it: relative, as typed
  study::CellResult cell;
  cell.key = {"base", 32, 8, 1};
  cell.config_key = old.key();
  cell.energy_source = "cpu-time-model";
  cell.reps = {study::Repetition{}};
  {
    auto s = study::Store::open(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_config(old));
    ASSERT_TRUE(s->put_cell(cell));
  }
  fs::current_path(cwd);  // resumed from elsewhere, with the absolute path
  study::Config now = old;
  now.model = fs::absolute(model).string();
  auto s = study::Store::open(path);
  ASSERT_TRUE(s);
  study::Config wrong = old;
  wrong.model = fs::absolute(other).string();
  EXPECT_FALSE(s->put_config(wrong));  // another file is another config
  ASSERT_TRUE(s->put_config(now)) << "the same file, spelled absolutely";
  auto stored = s->cell(cell.key);
  ASSERT_TRUE(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->config_key, now.key());  // the cell counts as measured under the new spelling
  auto configs = s->configs();
  ASSERT_TRUE(configs);
  EXPECT_EQ((*configs)[0].model, now.model);
  // make_model_paths_absolute: relative -> absolute, canonical; names of other engines kept.
  study::Config rel;
  rel.model = "some/dir/../m.gguf";
  study::make_model_paths_absolute(rel);
  EXPECT_EQ(rel.model, (fs::current_path() / "some" / "m.gguf").string());
  study::Config sim;
  sim.engine = "sim";
  sim.model = "Llama-3.2-1B";
  study::make_model_paths_absolute(sim);
  EXPECT_EQ(sim.model, "Llama-3.2-1B");
}

// ---- the study checked before the store is written ----

TEST(HostileStore, UnknownEngineSettingLeavesTheStoreUntouched) {
  testing::TempDir dir;
  const std::string store = (dir.path() / "s.db").string();
  const CliRun bad = sim_sweep(store, "--setting hardwre=h100-pcie");
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("hardwre"), std::string::npos) << bad.out;
  EXPECT_FALSE(fs::exists(store));
  const CliRun value = sim_sweep(store, "--setting tp=zero");
  EXPECT_EQ(value.rc, 2) << value.out;
  EXPECT_FALSE(fs::exists(store));
  // The corrected study runs into the same store.
  const CliRun good = sim_sweep(store);
  EXPECT_EQ(good.rc, 0) << good.out;
  // And a study file with a bad setting leaves the existing store as it is.
  const fs::path study = dir.write("s.yaml",
                                   "configs:\n  - name: sim\n    engine: sim\n    model: Llama-3.2-1B\n"
                                   "    settings: {hardware: h100-sxm, nonsense: 1}\n"
                                   "inputs: [32]\noutputs: [8]\nbatches: [2]\n");
  const std::string before = slurp(store);
  const CliRun file = sh(cli() + " sweep " + study.string() + " --store " + store + " --no-progress");
  EXPECT_EQ(file.rc, 2) << file.out;
  EXPECT_NE(file.out.find("nonsense"), std::string::npos) << file.out;
  EXPECT_EQ(slurp(store), before);
  // The check itself, in the library.
  study::Config c;
  c.name = "x";
  c.engine = "openai";
  c.settings = {{"url", "http://127.0.0.1:9"}, {"timeout_s", "-1"}};
  EXPECT_FALSE(study::check_engine_config(c));
  c.settings = {{"url", "http://127.0.0.1:9"}};
  EXPECT_TRUE(study::check_engine_config(c));
}

}  // namespace
}  // namespace jouleperf
