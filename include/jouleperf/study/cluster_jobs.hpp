// A sharded study as jobs of the scheduler a cluster already runs (docs/cluster.md):
// `jouleperf cluster slurm` writes an sbatch job-array script (one task per shard) and a
// merge script, and can submit them (the merge depends on the array); `jouleperf cluster
// k8s` writes a Kubernetes Indexed Job (one pod per shard, one pod per node) with the
// study in a ConfigMap, and a merge Job. Every shard sweeps into a store on the node's
// own disk and copies it to the results directory when it ends (SQLite stores are never
// written over NFS); a resubmitted shard resumes from that copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/study/grid.hpp"

namespace jouleperf::study {

struct ClusterJobOptions {
  std::string study_file;    // the study (YAML); the jobs name it by its absolute path (Slurm) or mount it (k8s)
  std::uint32_t shards = 0;  // the array's size: 1 <= shards <= the grid's cells
  std::string name;          // job name; "" = "jp-" + the study's name (letters, digits, '-')
  std::string results_dir;   // where the shards' stores, logs and the merged store go ("" = ./results), made absolute
  std::string merged_store = "merged.db";    // in results_dir
  std::string program = "jouleperf";         // the jouleperf the jobs run (a path, or a name in the job's PATH)
  std::vector<std::string> sweep_args;       // more `sweep` flags for every shard (e.g. --sensor nvml)
  std::optional<std::uint32_t> concurrency;  // at most this many shards at once (Slurm %k; k8s parallelism)
  std::optional<std::uint32_t> gpus_per_task;
  // Slurm
  std::string partition, time_limit, account;                // "" = the cluster's default
  bool exclusive = true;                                     // --exclusive: a node to each shard (one meter per node)
  std::string scratch = "${SLURM_TMPDIR:-${TMPDIR:-/tmp}}";  // node-local directory for the store being written
  // Kubernetes
  std::string image;           // the container image holding jouleperf (required)
  std::string namespace_name;  // "" = the context's namespace
  std::string results_claim;   // PersistentVolumeClaim for results_dir's contents ("" = <name>-results)
  std::string gpu_resource = "nvidia.com/gpu";
};

// A written job file.
struct JobFile {
  std::string name;  // file name, e.g. "<name>.sweep.sbatch"
  std::string text;
};

struct ClusterJobs {
  std::string name;  // the job name used
  std::string study_name;
  std::string study_hash;  // study_fingerprint
  std::uint64_t grid_cells = 0;
  std::string results_dir;     // absolute
  std::vector<JobFile> files;  // slurm: sweep array + merge; k8s: sweep (ConfigMap + Indexed Job) + merge Job
  // Advice that does not stop the jobs: a shard count sharing a factor with the number of
  // batch sizes deals each node only some of them, so the report cannot tell a node that
  // reads differently from the batch size's effect (docs/cluster.md, "Nodes that disagree").
  std::vector<std::string> warnings;
};

// Loads and checks the study (load_study_file, validate_study), then writes the Slurm
// scripts: "<name>.sweep.sbatch" (#SBATCH --array=0-(N-1)[%k], --exclusive, partition, time,
// account, --gpus-per-task, logs in results_dir/logs) running `sweep --shard
// $SLURM_ARRAY_TASK_ID/N` per task, and "<name>.merge.sbatch" running `merge` over every
// shard's store. Fails with kInvalidArgument for 0 shards or more shards than cells, or
// as the study fails to load (kParse, kNotFound).
Result<ClusterJobs> slurm_jobs(const ClusterJobOptions& options);

// Loads and checks the study, then writes "<name>.sweep.yaml" (a ConfigMap with the
// study file, and a batch/v1 Job: completionMode Indexed, completions N, parallelism
// (concurrency or N), backoffLimitPerIndex 1, one pod per node by pod anti-affinity,
// GPU requests, the node lock's /run/jouleperf as a hostPath, an emptyDir for the store
// being written and the results claim for the finished ones) and "<name>.merge.yaml" (a
// Job merging the stores). kInvalidArgument without an image, and as slurm_jobs.
Result<ClusterJobs> k8s_jobs(const ClusterJobOptions& options);

// Submitted Slurm jobs.
struct SlurmSubmission {
  std::string array_job_id;
  std::string merge_job_id;
  std::string array_spec;  // what --array was: "0-3%2", or the resubmitted indices "2,3"
};

// Submits the scripts of `jobs` (written to `dir`) with `sbatch` (the program, e.g.
// "sbatch" or a path): `sbatch --parsable [--array=ONLY] <sweep>`, then `sbatch --parsable
// --dependency=afterany:<array id> <merge>`. afterany, not afterok: the merge runs whatever
// the tasks' fate and, when a shard is missing, fails naming its cells and the indices to
// resubmit (afterok would leave it pending forever). `only` resubmits those array indices.
// Fails with kNotFound when sbatch cannot be run, kIo naming sbatch's message when it
// exits non-zero or prints no job id.
Result<SlurmSubmission> submit_slurm(const ClusterJobs& jobs, const std::string& dir, const std::string& sbatch,
                                     const std::vector<std::uint64_t>& only);

// `jouleperf cluster slurm|k8s`: the files written to `dir`, what to run next (or, with a
// submission, the job ids), as lines, a table of the files, and JSON {name, study, cells,
// shards, results_dir, files, array_job_id, merge_job_id, array}.
table::Document cluster_jobs_document(const ClusterJobs& jobs, std::uint32_t shards, const std::string& dir,
                                      const std::string& scheduler, const std::optional<SlurmSubmission>& submitted);

}  // namespace jouleperf::study
