// Which shard of a sweep this process runs (`sweep --shard auto`, docs/cluster.md): from
// the scheduler's own environment — a Slurm job array task or a Kubernetes Indexed Job
// pod — or from an explicit "i/n"; and the per-shard store path from a pattern
// ("results-{shard}.db"), so that every shard writes a store of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/study/grid.hpp"

namespace jouleperf::study {

// An environment variable's value, or nullopt when it is not set (the CLI passes getenv;
// tests a map). Never global state inside the library.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct ResolvedShard {
  Shard shard;
  std::string source;  // "--shard 1/4", or "Slurm array task 7 (SLURM_ARRAY_TASK_ID=7, ...)"
};

// "i/n" as parse_shard; "auto" from `env`:
//  - Slurm: SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT, and SLURM_ARRAY_TASK_MIN
//    (default 0) and SLURM_ARRAY_TASK_STEP (default 1) when the array does not start at 0
//    or steps: index = (ID − MIN) / STEP, count = SLURM_ARRAY_TASK_COUNT;
//  - Kubernetes: JOB_COMPLETION_INDEX, with the count from `count` (--shard-count) or
//    JOULEPERF_SHARD_COUNT (the manifest sets it; a pod does not see its Job's completions).
// `count`, when given, must agree with the environment's count. kInvalidArgument, naming
// the variables, when none is set, both schedulers' are, a value is not a number, the
// index falls outside the count or off the array's step, or the counts disagree.
Result<ResolvedShard> resolve_shard(std::string_view text, std::optional<std::uint32_t> count, const EnvLookup& env);

// Where this process runs, from the scheduler's environment, for each cell's conditions
// and the shard record (docs/cluster.md, "Provenance"): Slurm {"kind": "slurm", job_id,
// array_job_id, array_task_id, array_task_min, array_task_step, array_task_count, node,
// cluster, partition} from SLURM_JOB_ID, SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID/MIN/STEP/COUNT,
// SLURMD_NODENAME, SLURM_CLUSTER_NAME, SLURM_JOB_PARTITION; Kubernetes {"kind":
// "kubernetes", job_completion_index, job_name, pod, node, namespace} from
// JOB_COMPLETION_INDEX and the downward-API variables JOULEPERF_JOB_NAME, JOULEPERF_POD_NAME,
// JOULEPERF_NODE_NAME, JOULEPERF_NAMESPACE (jouleperf cluster k8s sets them). Only the
// variables that are set appear, as strings; {} outside a scheduler. Never fails.
nlohmann::json scheduler_provenance(const EnvLookup& env);

// `pattern` with "{shard}" replaced by the shard's index and "{count}" by the count
// ("results-{shard}-of-{count}.db" → "results-3-of-4.db"); unchanged without them. Never fails.
std::string store_path_for_shard(std::string_view pattern, Shard shard);

}  // namespace jouleperf::study
