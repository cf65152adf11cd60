// jouleperf cluster slurm|k8s|missing: a sharded study as jobs of the cluster's scheduler,
// and what a study's shards still miss (study/cluster_jobs.hpp, study/shard_check.hpp;
// docs/cluster.md).
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/study/cluster_jobs.hpp"
#include "jouleperf/study/scheduler_shard.hpp"
#include "jouleperf/study/shard_check.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

struct JobFlags {
  study::ClusterJobOptions o;
  std::string dir;  // where the job files go ("" = the results directory)
  bool submit = false;
  std::string sbatch = "sbatch";
  std::vector<std::uint64_t> only;
  OutputFlags out;
};

struct MissingFlags {
  std::vector<std::string> stores;
  std::optional<std::uint32_t> shards;  // expands a {shard} pattern
  OutputFlags out;
};

// This jouleperf's own path: what a job on a shared file system runs by default.
std::string own_program() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("jouleperf") : p.string();
}

Status write_files(const study::ClusterJobs& jobs, const std::string& dir) {
  std::error_code ec;
  for (const auto& d : {std::filesystem::path(dir), std::filesystem::path(jobs.results_dir) / "logs"}) {
    std::filesystem::create_directories(d, ec);
    if (ec) return make_error(Errc::kIo, "cannot make " + d.string() + ": " + ec.message());
  }
  for (const auto& f : jobs.files) {
    const auto path = (std::filesystem::path(dir) / f.name).string();
    auto file = AtomicFile::create(path);
    if (!file) return file.error();
    if (auto st = file->write(f.text); !st) return st;
    if (auto st = file->commit(); !st) return st;
    if (f.name.ends_with(".sbatch"))
      std::filesystem::permissions(path, std::filesystem::perms::owner_exec, std::filesystem::perm_options::add, ec);
  }
  return {};
}

int run_jobs(const char* command, JobFlags& f, bool slurm) {
  auto format = output_format(f.out, command);
  if (!format) return fail(command, format.error());
  auto jobs = slurm ? study::slurm_jobs(f.o) : study::k8s_jobs(f.o);
  if (!jobs) return fail(command, jobs.error(), /*parse_is_usage=*/true);
  const std::string dir = f.dir.empty() ? jobs->results_dir : f.dir;
  if (auto st = write_files(*jobs, dir); !st) return fail(command, st.error());
  std::optional<study::SlurmSubmission> submitted;
  if (f.submit) {
    auto s = study::submit_slurm(*jobs, dir, f.sbatch, f.only);
    if (!s) return fail(command, s.error());
    submitted = *s;
  }
  return emit(f.out, *format,
              study::cluster_jobs_document(*jobs, f.o.shards, dir, slurm ? "slurm" : "kubernetes", submitted), command);
}

void add_common_job_flags(CLI::App* cmd, JobFlags& f) {
  cmd->add_option("study", f.o.study_file, "Study file (YAML)")->required();
  cmd->add_option("sweep-args", f.o.sweep_args, "After --: more sweep flags for every shard (e.g. -- --sensor nvml)");
  cmd->add_option("--shards", f.o.shards, "Number of shards: one array task / indexed pod each")->required();
  cmd->add_option("--name", f.o.name, "Job name (default: jp-<study name>)");
  cmd->add_option("--results", f.o.results_dir,
                  "Directory the shards copy their stores to, with logs and the merged store (default ./results)");
  cmd->add_option("--merged", f.o.merged_store, "The merged store's name in the results directory")
      ->capture_default_str();
  cmd->add_option("--dir", f.dir, "Where to write the job files (default: the results directory)");
  cmd->add_option("--concurrency", f.o.concurrency, "At most this many shards at once (Slurm %k; k8s parallelism)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--gpus-per-task", f.o.gpus_per_task, "GPUs each shard asks for");
  add_output_flags(cmd, f.out);
}

void add_slurm(CLI::App* cluster, Context& ctx) {
  auto f = std::make_shared<JobFlags>();
  f->o.program = own_program();
  auto* cmd = cluster->add_subcommand("slurm", "Write (and with --submit, submit) an sbatch job array and its merge");
  add_common_job_flags(cmd, *f);
  cmd->add_option("--program", f->o.program, "The jouleperf the jobs run")->capture_default_str();
  cmd->add_option("--partition", f->o.partition, "sbatch --partition");
  cmd->add_option("--time", f->o.time_limit, "sbatch --time, per shard");
  cmd->add_option("--account", f->o.account, "sbatch --account");
  cmd->add_flag("!--shared-nodes", f->o.exclusive,
                "Do not ask for whole nodes (default --exclusive: one shard per node, one meter per node)");
  cmd->add_option("--scratch", f->o.scratch, "Node-local directory for the store being written")->capture_default_str();
  cmd->add_flag("--submit", f->submit, "Submit with sbatch and print the job ids (the merge after the array)");
  cmd->add_option("--sbatch", f->sbatch, "The sbatch program")->capture_default_str();
  cmd->add_option("--only", f->only, "With --submit: only these array indices (resubmit missing shards)")
      ->delimiter(',');
  cmd->callback([f, &ctx] {
    if (!f->only.empty() && !f->submit) {
      ctx.exit_code = fail("cluster slurm", make_error(Errc::kInvalidArgument, "--only needs --submit"));
      return;
    }
    ctx.exit_code = run_jobs("cluster slurm", *f, true);
  });
}

void add_k8s(CLI::App* cluster, Context& ctx) {
  auto f = std::make_shared<JobFlags>();
  auto* cmd =
      cluster->add_subcommand("k8s", "Write a Kubernetes Indexed Job (one pod per shard and node) and its merge");
  add_common_job_flags(cmd, *f);
  cmd->add_option("--image", f->o.image, "Container image holding jouleperf")->required();
  cmd->add_option("--program", f->o.program, "The jouleperf in the image")->capture_default_str();
  cmd->add_option("--namespace", f->o.namespace_name, "Namespace (default: the context's)");
  cmd->add_option("--results-claim", f->o.results_claim,
                  "PersistentVolumeClaim for the stores (default <name>-results)");
  cmd->add_option("--gpu-resource", f->o.gpu_resource, "Extended resource of a GPU")->capture_default_str();
  cmd->callback([f, &ctx] { ctx.exit_code = run_jobs("cluster k8s", *f, false); });
}

int run_missing(MissingFlags& f) {
  constexpr const char* kCommand = "cluster missing";
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  std::vector<std::string> paths;
  for (const auto& s : f.stores) {
    if (s.find("{shard}") == std::string::npos) {
      paths.push_back(s);
      continue;
    }
    if (!f.shards)
      return fail(kCommand, make_error(Errc::kInvalidArgument, s + ": a {shard} pattern needs --shards N"));
    for (std::uint32_t i = 0; i < *f.shards; ++i) paths.push_back(study::store_path_for_shard(s, {i, *f.shards}));
  }
  auto check = study::check_study_stores(paths);
  if (!check) return fail(kCommand, check.error());
  if (!*check)
    return fail(kCommand, make_error(Errc::kNotFound,
                                     "no store given holds a shard record (stores written by "
                                     "`jouleperf sweep` with --shard have one)"));
  const int rc = emit(f.out, *format, study::study_check_document(**check), kCommand);
  return rc != kExitOk ? rc : (*check)->complete() ? kExitOk : kExitFailure;
}

void add_missing(CLI::App* cluster, Context& ctx) {
  auto f = std::make_shared<MissingFlags>();
  auto* cmd = cluster->add_subcommand(
      "missing", "What a sharded study's stores still miss, by shard, and the array indices to resubmit (exit 1)");
  cmd->add_option("stores", f->stores,
                  "The shards' stores (absent ones count as missing), or a 'results-{shard}.db' "
                  "pattern with --shards")
      ->required();
  cmd->add_option("--shards", f->shards, "Expand {shard} in a store pattern to 0 .. N-1")->check(CLI::PositiveNumber);
  add_output_flags(cmd, f->out);
  cmd->callback([f, &ctx] { ctx.exit_code = run_missing(*f); });
}

}  // namespace

void add_cluster_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("cluster", "A sharded study on Slurm or Kubernetes (docs/cluster.md)");
  cmd->require_subcommand(1);
  add_slurm(cmd, ctx);
  add_k8s(cmd, ctx);
  add_missing(cmd, ctx);
}

}  // namespace jouleperf::cli
