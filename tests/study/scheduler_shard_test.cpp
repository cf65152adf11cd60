// `sweep --shard auto`: the shard from a Slurm job array's or a Kubernetes Indexed Job's
// environment, and a store per shard from a pattern.
#include "jouleperf/study/scheduler_shard.hpp"

#include <gtest/gtest.h>

#include <map>

namespace jouleperf::study {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SchedulerShard, SlurmArrayTaskGivesTheShard) {
  auto r = resolve_shard("auto", std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->shard.index, 2u);
  EXPECT_EQ(r->shard.count, 4u);
  EXPECT_NE(r->source.find("Slurm array task 2"), std::string::npos) << r->source;
}

TEST(SchedulerShard, SlurmArrayNotStartingAtZeroOrSteppingIsMapped) {
  // sbatch --array=10-22:4 runs tasks 10, 14, 18, 22.
  auto r = resolve_shard("auto", 4,
                         env_of({{"SLURM_ARRAY_TASK_ID", "18"},
                                 {"SLURM_ARRAY_TASK_COUNT", "4"},
                                 {"SLURM_ARRAY_TASK_MIN", "10"},
                                 {"SLURM_ARRAY_TASK_STEP", "4"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->shard.index, 2u);
  EXPECT_EQ(r->shard.count, 4u);
  auto off = resolve_shard("auto", std::nullopt,
                           env_of({{"SLURM_ARRAY_TASK_ID", "17"},
                                   {"SLURM_ARRAY_TASK_COUNT", "4"},
                                   {"SLURM_ARRAY_TASK_MIN", "10"},
                                   {"SLURM_ARRAY_TASK_STEP", "4"}}));
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message.find("SLURM_ARRAY_TASK_ID=17"), std::string::npos) << off.error().message;
}

TEST(SchedulerShard, KubernetesIndexWithTheCountFromTheFlagOrTheManifest) {
  auto flag = resolve_shard("auto", 3, env_of({{"JOB_COMPLETION_INDEX", "1"}}));
  ASSERT_TRUE(flag) << flag.error().message;
  EXPECT_EQ(flag->shard.index, 1u);
  EXPECT_EQ(flag->shard.count, 3u);
  EXPECT_NE(flag->source.find("JOB_COMPLETION_INDEX=1"), std::string::npos);
  auto manifest =
      resolve_shard("auto", std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "0"}, {"JOULEPERF_SHARD_COUNT", "2"}}));
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->shard.count, 2u);
  auto none = resolve_shard("auto", std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "0"}}));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("--shard-count"), std::string::npos);
  auto outside = resolve_shard("auto", 2, env_of({{"JOB_COMPLETION_INDEX", "2"}}));
  ASSERT_FALSE(outside);
}

TEST(SchedulerShard, BadInputIsAClearError) {
  // Outside a scheduler.
  auto outside = resolve_shard("auto", std::nullopt, env_of({}));
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, Errc::kInvalidArgument);
  EXPECT_NE(outside.error().message.find("SLURM_ARRAY_TASK_ID"), std::string::npos);
  EXPECT_NE(outside.error().message.find("JOB_COMPLETION_INDEX"), std::string::npos);
  // Counts that disagree: the study's sharding (--shard-count) against the array's.
  auto disagree = resolve_shard("auto", 8, env_of({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  ASSERT_FALSE(disagree);
  EXPECT_NE(disagree.error().message.find("--shard-count 8 disagrees with SLURM_ARRAY_TASK_COUNT=4"), std::string::npos)
      << disagree.error().message;
  EXPECT_FALSE(resolve_shard("1/4", 8, env_of({})));
  // Not a number; both schedulers at once; an array without its count.
  EXPECT_FALSE(resolve_shard("auto", std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "one"}})));
  EXPECT_FALSE(resolve_shard("auto", 2, env_of({{"JOB_COMPLETION_INDEX", "0"}, {"SLURM_ARRAY_TASK_ID", "0"}})));
  EXPECT_FALSE(resolve_shard("auto", std::nullopt, env_of({{"SLURM_ARRAY_TASK_ID", "0"}})));
  // An explicit shard needs no environment.
  auto fixed = resolve_shard("1/4", std::nullopt, env_of({}));
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->source, "--shard 1/4");
}

TEST(SchedulerShard, AStorePerShardFromThePattern) {
  EXPECT_EQ(store_path_for_shard("results-{shard}.db", Shard{3, 4}), "results-3.db");
  EXPECT_EQ(store_path_for_shard("r/{shard}-of-{count}.db", Shard{0, 2}), "r/0-of-2.db");
  EXPECT_EQ(store_path_for_shard("plain.db", Shard{1, 2}), "plain.db");
}

}  // namespace
}  // namespace jouleperf::study
