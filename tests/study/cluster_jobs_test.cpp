// `jouleperf cluster slurm|k8s` (issue 18): the job files for a study's shards, and their
// submission to sbatch. The real sbatch runs in the Slurm test
// (scripts/test_slurm_cluster.sh); the manifests' schema check is K8s.ManifestsMatchTheJobSchema.
#include "jouleperf/study/cluster_jobs.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jouleperf/core/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

using testing::TempDir;

constexpr const char* kStudy = R"(name: Paper Grid
configs:
  - name: h100
    engine: sim
    model: Llama-3.2-1B
    settings: {hardware: h100-sxm}
inputs: [128, 512]
outputs: [32, 64]
batches: [1, 4]
)";

ClusterJobOptions options(const TempDir& dir, std::uint32_t shards) {
  ClusterJobOptions o;
  o.study_file = dir.write("study.yaml", kStudy).string();
  o.shards = shards;
  o.results_dir = (dir.path() / "results").string();
  o.program = "/opt/jp/bin/jouleperf";
  return o;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `shell -n` of the text: the shell's own syntax check.
void expect_shell_syntax(const TempDir& dir, const std::string& shell, const std::string& text) {
  const auto path = dir.write("check.sh", text);
  auto r = run_process({shell, "-n", path.string()});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->err << "\n" << text;
}

TEST(ClusterJobs, SlurmArrayScriptRunsOneShardPerTaskOnWholeNodes) {
  TempDir dir;
  auto o = options(dir, 4);
  o.concurrency = 2;
  o.partition = "gpu";
  o.time_limit = "02:00:00";
  o.gpus_per_task = 1;
  o.sweep_args = {"--sensor", "nvml", "--note", "it's"};
  auto jobs = slurm_jobs(o);
  ASSERT_TRUE(jobs) << jobs.error().message;
  EXPECT_EQ(jobs->name, "jp-paper-grid");
  EXPECT_EQ(jobs->grid_cells, 8u);
  ASSERT_EQ(jobs->files.size(), 2u);
  const std::string& a = jobs->files[0].text;
  EXPECT_EQ(jobs->files[0].name, "jp-paper-grid.sweep.sbatch");
  for (const char* line : {"#SBATCH --array=0-3%2\n", "#SBATCH --exclusive\n", "#SBATCH --gpus-per-task=1\n",
                           "#SBATCH --partition=gpu\n", "#SBATCH --time=02:00:00\n", "index=\"${SLURM_ARRAY_TASK_ID}\"",
                           "sweep '", "--shard \"${index}/4\"", "'--sensor' 'nvml' '--note' 'it'\\''s'"})
    EXPECT_TRUE(contains(a, line)) << line << "\n" << a;
  // The store is written on node-local scratch and copied back, also when cancelled.
  EXPECT_TRUE(contains(a, "--store \"$scratch/$store\"")) << a;
  EXPECT_TRUE(contains(a, "trap ")) << a;
  const std::string& m = jobs->files[1].text;
  EXPECT_TRUE(contains(m, "merge 'merged.db' results-0.db results-1.db results-2.db results-3.db")) << m;
  EXPECT_FALSE(contains(m, "--exclusive")) << m;
  expect_shell_syntax(dir, "bash", a);
  expect_shell_syntax(dir, "bash", m);

  // 4 shards of a grid with 2 batch sizes: each shard gets one; the node check cannot work.
  ASSERT_EQ(jobs->warnings.size(), 1u);
  EXPECT_TRUE(contains(jobs->warnings[0], "share the factor 2")) << jobs->warnings[0];
  EXPECT_TRUE(contains(jobs->warnings[0], "e.g. 5,")) << jobs->warnings[0];
  auto three = slurm_jobs(options(dir, 3));
  ASSERT_TRUE(three);
  EXPECT_TRUE(three->warnings.empty());

  o.exclusive = false;
  o.concurrency.reset();
  auto shared = slurm_jobs(o);
  ASSERT_TRUE(shared);
  EXPECT_FALSE(contains(shared->files[0].text, "--exclusive"));
  EXPECT_TRUE(contains(shared->files[0].text, "#SBATCH --array=0-3\n"));
}

TEST(ClusterJobs, ShardCountsOutsideTheGridAndBadValuesAreRefused) {
  TempDir dir;
  for (std::uint32_t n : {0u, 9u}) {
    auto jobs = slurm_jobs(options(dir, n));
    ASSERT_FALSE(jobs);
    EXPECT_EQ(jobs.error().code, Errc::kInvalidArgument);
    EXPECT_TRUE(contains(jobs.error().message, "has 8 cells")) << jobs.error().message;
  }
  auto o = options(dir, 2);
  o.partition = "gpu #x";
  EXPECT_FALSE(slurm_jobs(o));
  o = options(dir, 2);
  o.study_file = (dir.path() / "absent.yaml").string();
  auto absent = slurm_jobs(o);
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, Errc::kNotFound);
  auto no_image = k8s_jobs(options(dir, 2));
  ASSERT_FALSE(no_image);
  EXPECT_TRUE(contains(no_image.error().message, "--image"));
}

TEST(ClusterJobs, KubernetesIndexedJobHasOnePodPerShardAndNode) {
  TempDir dir;
  auto o = options(dir, 4);
  o.image = "registry.example/jouleperf:0.1";
  o.gpus_per_task = 2;
  o.concurrency = 3;
  auto jobs = k8s_jobs(o);
  ASSERT_TRUE(jobs) << jobs.error().message;
  ASSERT_EQ(jobs->files.size(), 2u);
  const std::string& y = jobs->files[0].text;
  for (const char* part : {"kind: ConfigMap", "name: jp-paper-grid-study", "study.yaml: |\n    name: Paper Grid",
                           "kind: Job", "completionMode: Indexed", "completions: 4", "parallelism: 3",
                           "podAntiAffinity", "topologyKey: kubernetes.io/hostname", "nvidia.com/gpu: 2",
                           "name: JOULEPERF_SHARD_COUNT\n          value: \"4\"", "fieldPath: \"spec.nodeName\"",
                           "index=\"${JOB_COMPLETION_INDEX}\"", "--shard \"${index}/4\"", "path: /run/jouleperf",
                           "emptyDir: {}", "claimName: jp-paper-grid-results"})
    EXPECT_TRUE(contains(y, part)) << part << "\n" << y;
  const std::string& m = jobs->files[1].text;
  EXPECT_TRUE(contains(m, "\"merge\", \"merged.db\", \"results-0.db\", \"results-1.db\"")) << m;
  // The pod's script, as the container's /bin/sh reads it.
  const auto begin = y.find("        - |\n") + 12;
  const auto end = y.find("        env:");
  std::string script;
  std::istringstream lines(y.substr(begin, end - begin));
  for (std::string line; std::getline(lines, line);) script += (line.size() > 10 ? line.substr(10) : "") + "\n";
  expect_shell_syntax(dir, "sh", script);
}

// A stand-in for sbatch (the real one runs in the Slurm test): prints a job id, and
// records its arguments.
std::string fake_sbatch(const TempDir& dir, const std::string& body) {
  const auto p = dir.write("sbatch", "#!/bin/sh\necho \"$@\" >> " + (dir.path() / "calls").string() + "\n" + body);
  std::filesystem::permissions(p, std::filesystem::perms::owner_all);
  return p.string();
}

TEST(ClusterJobs, SubmitRunsTheArrayThenTheMergeAfterIt) {
  TempDir dir;
  auto jobs = slurm_jobs(options(dir, 4));
  ASSERT_TRUE(jobs);
  const std::string sbatch =
      fake_sbatch(dir, "n=$(wc -l < " + (dir.path() / "calls").string() + ")\necho \"$((100 + n));cluster\"\n");
  auto s = submit_slurm(*jobs, dir.path().string(), sbatch, {});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->array_job_id, "101");
  EXPECT_EQ(s->merge_job_id, "102");
  std::stringstream calls;
  calls << std::ifstream(dir.path() / "calls").rdbuf();
  EXPECT_TRUE(contains(calls.str(), "--parsable " + (dir.path() / "jp-paper-grid.sweep.sbatch").string()));
  EXPECT_TRUE(contains(calls.str(), "--parsable --dependency=afterany:101 ")) << calls.str();

  auto only = submit_slurm(*jobs, dir.path().string(), sbatch, {2, 3});
  ASSERT_TRUE(only);
  EXPECT_EQ(only->array_spec, "2,3");

  const std::string failing = fake_sbatch(dir, "echo 'sbatch: error: invalid partition' >&2\nexit 1\n");
  auto bad = submit_slurm(*jobs, dir.path().string(), failing, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kIo);
  EXPECT_TRUE(contains(bad.error().message, "invalid partition")) << bad.error().message;

  auto none = submit_slurm(*jobs, dir.path().string(), (dir.path() / "no-such-sbatch").string(), {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kNotFound);
}

TEST(RunProcess, CapturesBothStreamsAndTheExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
  auto missing = run_process({"jouleperf-no-such-program"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_FALSE(run_process({}));
}

}  // namespace
}  // namespace jouleperf::study
