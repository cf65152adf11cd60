// A study's shards as a whole (issue 18, docs/cluster.md "Merging a study"): each shard's
// store records its study, shard and whether it finished; merge refuses an incomplete
// study or a mix of studies before writing anything, and names what to resubmit.
#include "jouleperf/study/shard_check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/study/documents.hpp"
#include "jouleperf/study/sweep_spec.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

using testing::TempDir;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

SweepSpec sim_spec(const std::string& shard, const std::string& outputs = "16,64") {
  SweepSpec s;
  s.engine = "sim";
  s.model = "Llama-3.2-1B";
  s.settings = {"hardware=h100-sxm"};
  s.input = "128,512";
  s.output = outputs;
  s.batch = "1,4";
  s.reps = 1;
  s.warmup = 0;
  s.shard = shard;
  return s;
}

// Runs one shard of the sim grid into `path`, as `jouleperf sweep` does.
void sweep_shard(const std::string& path, const SweepSpec& spec) {
  auto plan = plan_sweep(spec);
  ASSERT_TRUE(plan) << plan.error().message;
  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().message;
  SteadyClock clock;
  auto r = run_sweep_plan(*plan, spec, *store, path, nullptr, clock, nullptr);
  ASSERT_TRUE(r) << r.error().message;
}

std::string shard_path(const TempDir& dir, int i) { return (dir.path() / ("r-" + std::to_string(i) + ".db")).string(); }

std::vector<std::string> four_paths(const TempDir& dir) {
  return {shard_path(dir, 0), shard_path(dir, 1), shard_path(dir, 2), shard_path(dir, 3)};
}

TEST(ShardCheck, EveryShardRecordsItsStudyAndTheCompleteStudyMerges) {
  TempDir dir;
  for (int i = 0; i < 4; ++i) sweep_shard(shard_path(dir, i), sim_spec(std::to_string(i) + "/4"));
  auto check = check_study_stores(four_paths(dir));
  ASSERT_TRUE(check) << check.error().message;
  ASSERT_TRUE(check->has_value());
  const StudyCheck& c = **check;
  EXPECT_EQ(c.shards, 4u);
  EXPECT_EQ(c.grid_cells, 8u);
  EXPECT_TRUE(c.complete());
  EXPECT_TRUE(describe_missing(c).empty());
  for (const auto& s : c.states) {
    EXPECT_EQ(s.state, "finished");
    EXPECT_EQ(s.cells, 2u);
  }
  const std::string out = (dir.path() / "all.db").string();
  auto m = merge_and_count(four_paths(dir), out);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->cells, 8u);
  ASSERT_TRUE(m->study);
  EXPECT_TRUE(m->study->complete());  // the merged store carries every shard's record
  EXPECT_EQ(m->study->study_hash, c.study_hash);
}

TEST(ShardCheck, AMissingShardFailsTheMergeNamingItsCellsAndWritesNothing) {
  TempDir dir;
  for (int i : {0, 1, 3}) sweep_shard(shard_path(dir, i), sim_spec(std::to_string(i) + "/4"));
  const std::string out = (dir.path() / "all.db").string();
  auto st = merge_stores(four_paths(dir), out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kNotFound);
  const std::string& msg = st.error().message;
  EXPECT_NE(msg.find("is incomplete; nothing merged"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shard 2/4 (absent"), std::string::npos) << msg;
  // Shard 2 holds grid positions 2 and 6: I=128 O=64 B=1 and I=512 O=64 B=1.
  EXPECT_NE(msg.find("default I=128 O=64 B=1, default I=512 O=64 B=1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no store at " + shard_path(dir, 2)), std::string::npos) << msg;
  EXPECT_NE(msg.find("resubmit array indices 2 "), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(out)) << "a refused merge created its output";

  // --allow-incomplete merges what is there and still says what is missing.
  auto m = merge_and_count(four_paths(dir), out, MergeOptions{true});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->cells, 6u);
  ASSERT_TRUE(m->study);
  EXPECT_FALSE(m->study->complete());
  EXPECT_EQ(m->study->indices_to_resubmit(), std::vector<std::uint64_t>{2});

  // The shard run later completes the study, merged into the partial output.
  sweep_shard(shard_path(dir, 2), sim_spec("2/4"));
  auto again = merge_and_count({shard_path(dir, 2)}, out);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->cells, 8u);
  EXPECT_TRUE(again->study->complete());
}

TEST(ShardCheck, AnUnfinishedShardIsNamedWithTheCellsItLacks) {
  TempDir dir;
  for (int i = 0; i < 4; ++i) sweep_shard(shard_path(dir, i), sim_spec(std::to_string(i) + "/4"));
  {
    // Shard 1 as a cancelled task leaves it: its record unfinished, one cell stored.
    auto s = Store::open(shard_path(dir, 1));
    ASSERT_TRUE(s);
    auto records = shard_records(*s);
    ASSERT_TRUE(records);
    ASSERT_EQ(records->size(), 1u);
    ShardRecord r = records->front();
    r.finished = false;
    r.ended_unix_s.reset();
    ASSERT_TRUE(s->put_artifact(shard_artifact(r)));
    auto cells = s->cells();
    ASSERT_TRUE(cells);
    ASSERT_EQ(cells->size(), 2u);
    CellResult failed = cells->back();
    failed.status = CellStatus::kFailed;  // a failed cell is missing too
    ASSERT_TRUE(s->put_cell(failed));
  }
  auto check = check_study_stores(four_paths(dir));
  ASSERT_TRUE(check && check->has_value());
  const auto& st = (**check).states[1];
  EXPECT_EQ(st.state, "unfinished");
  ASSERT_EQ(st.missing.size(), 1u);
  const auto lines = describe_missing(**check);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("shard 1/4 (unfinished"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("1 of 2 cells missing: " + to_string(st.missing[0])), std::string::npos) << lines[0];
}

TEST(ShardCheck, StoresOfTwoStudiesOrTwoSplitsAreRefused) {
  TempDir dir;
  sweep_shard(shard_path(dir, 0), sim_spec("0/2"));
  sweep_shard(shard_path(dir, 1), sim_spec("1/2", "16,32"));  // another grid: another study
  const std::string out = (dir.path() / "all.db").string();
  auto st = merge_stores({shard_path(dir, 0), shard_path(dir, 1)}, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
  EXPECT_NE(st.error().message.find("stores of different studies"), std::string::npos) << st.error().message;
  EXPECT_FALSE(std::filesystem::exists(out));

  sweep_shard(shard_path(dir, 2), sim_spec("1/4"));  // the first study, split in four
  st = merge_stores({shard_path(dir, 0), shard_path(dir, 2)}, out);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("different numbers of shards"), std::string::npos) << st.error().message;
}

TEST(ShardCheck, SlurmProvenanceGoesIntoEveryCellAndTheArrayIndexFollowsTheArray) {
  TempDir dir;
  // sbatch --array=10-22:4: the task of shard 1 is array index 14.
  auto spec = sim_spec("auto");
  spec.env = env_of({{"SLURM_JOB_ID", "5001"},
                     {"SLURM_ARRAY_JOB_ID", "5000"},
                     {"SLURM_ARRAY_TASK_ID", "14"},
                     {"SLURM_ARRAY_TASK_COUNT", "4"},
                     {"SLURM_ARRAY_TASK_MIN", "10"},
                     {"SLURM_ARRAY_TASK_STEP", "4"},
                     {"SLURMD_NODENAME", "gpu-node-7"}});
  sweep_shard(shard_path(dir, 1), spec);
  auto s = Store::open(shard_path(dir, 1), StoreMode::kReadOnly);
  ASSERT_TRUE(s);
  auto cells = s->cells();
  ASSERT_TRUE(cells);
  ASSERT_EQ(cells->size(), 2u);
  for (const auto& c : *cells) {
    const auto& sched = c.conditions.at("scheduler");
    EXPECT_EQ(sched.at("kind"), "slurm");
    EXPECT_EQ(sched.at("array_job_id"), "5000");
    EXPECT_EQ(sched.at("array_task_id"), "14");
    EXPECT_EQ(sched.at("node"), "gpu-node-7");
    EXPECT_EQ(c.conditions.at("shard"), "1/4");
  }
  auto check = check_study_stores({shard_path(dir, 1)});
  ASSERT_TRUE(check && check->has_value());
  // The absent shards' indices come from the array the present one saw.
  EXPECT_EQ((**check).indices_to_resubmit(), (std::vector<std::uint64_t>{10, 18, 22}));
}

TEST(ShardCheck, StoresWithoutRecordsMergeAsBefore) {
  TempDir dir;
  const std::string a = shard_path(dir, 0);
  {
    auto s = Store::open(a);
    ASSERT_TRUE(s);
    Config c;
    c.name = "x";
    ASSERT_TRUE(s->put_config(c));
  }
  auto check = check_study_stores({a});
  ASSERT_TRUE(check);
  EXPECT_FALSE(check->has_value());
  auto st = merge_stores({a, shard_path(dir, 1)}, (dir.path() / "o.db").string());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kNotFound);
  EXPECT_NE(st.error().message.find("does not exist"), std::string::npos);
  EXPECT_TRUE(merge_stores({a}, (dir.path() / "o.db").string()));
}

TEST(ShardRecord, RoundTripsAndRejectsAMalformedRecord) {
  ShardRecord r;
  r.study_name = "s";
  r.study_hash = "00ff";
  r.shard = {2, 4};
  r.grid.configs = {{"a", {1, 4}}};
  r.grid.input_tokens = {128};
  r.grid.output_tokens = {32, 64};
  r.cells = 1;
  r.finished = true;
  r.ended_unix_s = 5.0;
  auto back = shard_record_from_json(to_json(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->shard.index, 2u);
  EXPECT_EQ(outline_cells(back->grid).size(), 4u);
  auto j = to_json(r);
  j["shard"] = 4;  // not < shards
  EXPECT_FALSE(shard_record_from_json(j));
  j.erase("study_hash");
  auto bad = shard_record_from_json(j);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kParse);
}

}  // namespace
}  // namespace jouleperf::study
