#include "jouleperf/study/scheduler_shard.hpp"

#include <fmt/format.h>

#include <charconv>

namespace jouleperf::study {
namespace {

// The variable's value as a whole number; nullopt when unset; an error naming it when
// it is set to something else.
Result<std::optional<std::uint64_t>> number(const EnvLookup& env, std::string_view name) {
  const auto v = env ? env(name) : std::nullopt;
  if (!v) return std::optional<std::uint64_t>{};
  std::uint64_t n = 0;
  const char* end = v->data() + v->size();
  const auto [p, ec] = std::from_chars(v->data(), end, n);
  if (ec != std::errc() || p != end || v->empty())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--shard auto: {}=\"{}\" is not a whole number >= 0", name, *v));
  return std::optional<std::uint64_t>{n};
}

Status check_count(std::uint64_t env_count, std::optional<std::uint32_t> flag, std::string_view env_name) {
  if (flag && *flag != env_count)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--shard auto: --shard-count {} disagrees with {}={}: the array and the study's "
                                  "sharding must be the same size",
                                  *flag, env_name, env_count));
  return {};
}

Result<ResolvedShard> from_slurm(std::uint64_t id, std::optional<std::uint32_t> flag, const EnvLookup& env) {
  auto count = number(env, "SLURM_ARRAY_TASK_COUNT");
  if (!count) return count.error();
  auto min = number(env, "SLURM_ARRAY_TASK_MIN");
  if (!min) return min.error();
  auto step = number(env, "SLURM_ARRAY_TASK_STEP");
  if (!step) return step.error();
  if (!*count)
    return make_error(Errc::kInvalidArgument,
                      "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm sets both "
                      "for a job array: submit with sbatch --array)");
  const std::uint64_t lo = min->value_or(0), st = step->value_or(1);
  if (st == 0) return make_error(Errc::kInvalidArgument, "--shard auto: SLURM_ARRAY_TASK_STEP=0");
  if (id < lo || (id - lo) % st != 0 || (id - lo) / st >= **count)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--shard auto: SLURM_ARRAY_TASK_ID={} is not one of the array's {} tasks from {} "
                                  "by {} (SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP)",
                                  id, **count, lo, st));
  if (**count > 1'000'000) return make_error(Errc::kInvalidArgument, "--shard auto: more than 1,000,000 array tasks");
  if (auto s = check_count(**count, flag, "SLURM_ARRAY_TASK_COUNT"); !s) return s.error();
  const Shard shard{static_cast<std::uint32_t>((id - lo) / st), static_cast<std::uint32_t>(**count)};
  return ResolvedShard{shard, fmt::format("Slurm array task {} (SLURM_ARRAY_TASK_ID={}, MIN {}, STEP {}, COUNT {}): "
                                          "shard {}/{}",
                                          id, id, lo, st, **count, shard.index, shard.count)};
}

Result<ResolvedShard> from_kubernetes(std::uint64_t index, std::optional<std::uint32_t> flag, const EnvLookup& env) {
  auto env_count = number(env, "JOULEPERF_SHARD_COUNT");
  if (!env_count) return env_count.error();
  if (*env_count)
    if (auto s = check_count(**env_count, flag, "JOULEPERF_SHARD_COUNT"); !s) return s.error();
  const std::optional<std::uint64_t> count = flag ? std::optional<std::uint64_t>(*flag) : *env_count;
  if (!count)
    return make_error(Errc::kInvalidArgument,
                      "--shard auto: JOB_COMPLETION_INDEX is set but not the number of shards: give --shard-count N "
                      "or set JOULEPERF_SHARD_COUNT in the Job's pod template (jouleperf cluster k8s does)");
  if (*count == 0 || *count > 1'000'000 || index >= *count)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--shard auto: JOB_COMPLETION_INDEX={} is outside {} shards", index, *count));
  const Shard shard{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(*count)};
  return ResolvedShard{shard, fmt::format("Kubernetes Indexed Job (JOB_COMPLETION_INDEX={}, {} shards): shard {}/{}",
                                          index, *count, shard.index, shard.count)};
}

}  // namespace

Result<ResolvedShard> resolve_shard(std::string_view text, std::optional<std::uint32_t> count, const EnvLookup& env) {
  if (text != "auto") {
    auto s = parse_shard(text);
    if (!s) return s.error();
    if (count && *count != s->count)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("--shard-count {} disagrees with --shard {}", *count, std::string(text)));
    return ResolvedShard{*s, fmt::format("--shard {}/{}", s->index, s->count)};
  }
  auto slurm = number(env, "SLURM_ARRAY_TASK_ID");
  if (!slurm) return slurm.error();
  auto k8s = number(env, "JOB_COMPLETION_INDEX");
  if (!k8s) return k8s.error();
  if (*slurm && *k8s)
    return make_error(Errc::kInvalidArgument,
                      "--shard auto: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; give --shard i/n");
  if (*slurm) return from_slurm(**slurm, count, env);
  if (*k8s) return from_kubernetes(**k8s, count, env);
  return make_error(Errc::kInvalidArgument,
                    "--shard auto: not inside a scheduler's array: neither SLURM_ARRAY_TASK_ID (a Slurm job array, "
                    "sbatch --array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard i/n");
}

nlohmann::json scheduler_provenance(const EnvLookup& env) {
  nlohmann::json out = nlohmann::json::object();
  if (!env) return out;
  auto take = [&](const char* key, std::string_view var) {
    if (auto v = env(var)) out[key] = *v;
  };
  if (env("SLURM_JOB_ID")) {
    out["kind"] = "slurm";
    take("job_id", "SLURM_JOB_ID");
    take("array_job_id", "SLURM_ARRAY_JOB_ID");
    take("array_task_id", "SLURM_ARRAY_TASK_ID");
    take("array_task_min", "SLURM_ARRAY_TASK_MIN");
    take("array_task_step", "SLURM_ARRAY_TASK_STEP");
    take("array_task_count", "SLURM_ARRAY_TASK_COUNT");
    take("node", "SLURMD_NODENAME");
    take("cluster", "SLURM_CLUSTER_NAME");
    take("partition", "SLURM_JOB_PARTITION");
  } else if (env("JOB_COMPLETION_INDEX")) {
    out["kind"] = "kubernetes";
    take("job_completion_index", "JOB_COMPLETION_INDEX");
    take("job_name", "JOULEPERF_JOB_NAME");
    take("pod", "JOULEPERF_POD_NAME");
    take("node", "JOULEPERF_NODE_NAME");
    take("namespace", "JOULEPERF_NAMESPACE");
  }
  return out;
}

std::string store_path_for_shard(std::string_view pattern, Shard shard) {
  std::string out(pattern);
  for (const auto& [key, value] :
       {std::pair{std::string("{shard}"), std::to_string(shard.index)}, {"{count}", std::to_string(shard.count)}})
    for (auto p = out.find(key); p != std::string::npos; p = out.find(key, p + value.size()))
      out.replace(p, key.size(), value);
  return out;
}

}  // namespace jouleperf::study
