#include "jouleperf/study/cluster_jobs.hpp"

#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <numeric>

#include "jouleperf/core/subprocess.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/study/shard_record.hpp"

namespace jouleperf::study {

namespace {

// 'text' for a POSIX shell: single quotes, each ' as '\''.
std::string sh(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// A YAML double-quoted scalar (JSON string syntax is valid YAML).
std::string yq(std::string_view text) { return nlohmann::json(std::string(text)).dump(); }

// A Kubernetes object name: lower-case letters, digits and '-', at most 52 characters
// (room for the "-merge" suffix and the pod's index), starting and ending alphanumeric.
std::string dns_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 52) out.resize(52);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "jouleperf" : out;
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

Result<ClusterJobs> prepare(const ClusterJobOptions& o) {
  auto study = load_study_file(o.study_file);
  if (!study) return study.error();
  const std::uint64_t cells = grid_cell_count(*study);
  if (o.shards == 0 || o.shards > cells)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("--shards {}: the study \"{}\" has {} cells; give 1 to {} shards", o.shards,
                                  study->name, cells, cells));
  if (o.concurrency && *o.concurrency == 0)
    return make_error(Errc::kInvalidArgument, "--concurrency must be at least 1");
  ClusterJobs j;
  j.name = dns_name(o.name.empty() ? "jp-" + study->name : o.name);
  j.study_name = study->name;
  j.grid_cells = cells;
  j.results_dir = absolute(o.results_dir.empty() ? "results" : o.results_dir);
  // Round-robin over the grid: with the innermost axis's size sharing a factor with N,
  // each shard sees only some of its values.
  for (const auto& c : grid_outline(*study).configs) {
    const auto g = std::gcd<std::uint64_t, std::uint64_t>(o.shards, c.batch_sizes.size());
    if (g > 1 && o.shards < cells) {
      std::uint64_t better = o.shards + 1;
      while (std::gcd<std::uint64_t, std::uint64_t>(better, c.batch_sizes.size()) > 1) ++better;
      j.warnings.push_back(fmt::format(
          "config \"{}\": {} shards and {} batch sizes share the factor {}: each shard measures only some batch "
          "sizes, so the report cannot compare its node with the others (a shard count with no common factor, e.g. "
          "{}, deals every batch size to every shard)",
          c.name, o.shards, c.batch_sizes.size(), g, better));
      break;
    }
  }
  return j;
}

// The stores of every shard, as merge arguments (file names, relative to the results directory).
std::string shard_store_list(std::uint32_t shards) {
  std::string out;
  for (std::uint32_t i = 0; i < shards; ++i) out += fmt::format(" results-{}.db", i);
  return out;
}

std::string sweep_flags(const ClusterJobOptions& o) {
  std::string out;
  for (const auto& a : o.sweep_args) {
    out += ' ';
    out += sh(a);
  }
  return out;
}

// The shell that runs one shard: the store on node-local scratch (seeded from the results
// directory, so a resubmitted shard resumes), copied back when the sweep ends or is
// cancelled (SIGTERM: scancel, a pod's deletion).
std::string shard_shell(const ClusterJobOptions& o, const std::string& study_path, const std::string& results,
                        const std::string& index_var, const std::string& scratch) {
  std::string s;
  s += fmt::format("index=\"${{{}}}\"\n", index_var);
  s += fmt::format("results={}\n", results);
  s += "store=\"results-${index}.db\"\n";
  s += fmt::format("scratch=\"{}/jouleperf-{}-${{index}}\"\n", scratch, "$$");
  s += "mkdir -p \"$scratch\" \"$results\"\n";
  s += "# A resubmitted shard resumes from the store its last try copied back.\n";
  s += "for f in \"$store\" \"$store-wal\"; do [ -f \"$results/$f\" ] && cp -p \"$results/$f\" \"$scratch/\"; done\n";
  s += "copy_back() {\n";
  s += "  for f in \"$store\" \"$store-wal\"; do\n";
  s += "    if [ -f \"$scratch/$f\" ]; then cp -p \"$scratch/$f\" \"$results/$f.part\" && mv -f \"$results/$f.part\" "
       "\"$results/$f\"; else rm -f \"$results/$f\"; fi\n";
  s += "  done\n";
  s += "  rm -rf \"$scratch\"\n";
  s += "}\n";
  s += fmt::format("{} sweep {} --shard \"${{index}}/{}\" --store \"$scratch/$store\"{} &\n", sh(o.program),
                   sh(study_path), o.shards, sweep_flags(o));
  s += "pid=$!\n";
  s += "trap 'kill -TERM \"$pid\" 2>/dev/null; wait \"$pid\"; copy_back; exit 143' TERM INT\n";
  s += "wait \"$pid\"\n";
  s += "rc=$?\n";
  s += "copy_back\n";
  s += "exit \"$rc\"\n";
  return s;
}

std::string sbatch_common(const ClusterJobOptions& o) {
  std::string s;
  if (!o.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (!o.time_limit.empty()) s += fmt::format("#SBATCH --time={}\n", o.time_limit);
  if (!o.account.empty()) s += fmt::format("#SBATCH --account={}\n", o.account);
  return s;
}

Status check_sbatch_value(const std::string& flag, const std::string& v) {
  for (char c : v)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '#')
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{} \"{}\": no spaces or '#' in an #SBATCH value", flag, v));
  return {};
}

std::string array_spec(std::uint32_t shards, std::optional<std::uint32_t> concurrency) {
  std::string s = shards == 1 ? "0" : fmt::format("0-{}", shards - 1);
  if (concurrency) s += fmt::format("%{}", *concurrency);
  return s;
}

}  // namespace

Result<ClusterJobs> slurm_jobs(const ClusterJobOptions& o) {
  for (const auto& [flag, v] : {std::pair<std::string, std::string>{"--partition", o.partition},
                                {"--time", o.time_limit},
                                {"--account", o.account}})
    if (auto st = check_sbatch_value(flag, v); !st) return st.error();
  auto jobs = prepare(o);
  if (!jobs) return jobs.error();
  const std::string study = absolute(o.study_file);
  const std::string& results = jobs->results_dir;
  std::string a = "#!/bin/bash\n";
  a += fmt::format("# Written by `jouleperf cluster slurm` for study \"{}\" ({} cells): one array task per shard,\n",
                   jobs->study_name, jobs->grid_cells);
  a += fmt::format("# {} shards. Resubmit shards with: sbatch --array=2,3 {}.sweep.sbatch\n", o.shards, jobs->name);
  a += fmt::format("#SBATCH --job-name={}\n", jobs->name);
  a += fmt::format("#SBATCH --array={}\n", array_spec(o.shards, o.concurrency));
  a += "#SBATCH --ntasks=1\n";
  if (o.exclusive) a += "#SBATCH --exclusive\n";
  if (o.gpus_per_task) a += fmt::format("#SBATCH --gpus-per-task={}\n", *o.gpus_per_task);
  a += sbatch_common(o);
  a += fmt::format("#SBATCH --output={}/logs/{}-%A_%a.out\n", results, jobs->name);
  a += "set -u\n";
  a += shard_shell(o, study, sh(results), "SLURM_ARRAY_TASK_ID", o.scratch);

  std::string m = "#!/bin/bash\n";
  m += fmt::format("# Written by `jouleperf cluster slurm`: merges the {} shards of study \"{}\". Submitted after\n",
                   o.shards, jobs->study_name);
  m += "# the array (--dependency=afterany): it fails, naming the missing cells, when a shard did not finish.\n";
  m += fmt::format("#SBATCH --job-name={}-merge\n", jobs->name);
  m += "#SBATCH --ntasks=1\n";
  m += sbatch_common(o);
  m += fmt::format("#SBATCH --output={}/logs/{}-merge-%j.out\n", results, jobs->name);
  m += "set -u\n";
  m += fmt::format("cd {} || exit 1\n", sh(results));
  m += fmt::format("exec {} merge {}{}\n", sh(o.program), sh(o.merged_store), shard_store_list(o.shards));
  jobs->files = {{jobs->name + ".sweep.sbatch", std::move(a)}, {jobs->name + ".merge.sbatch", std::move(m)}};
  return jobs;
}

namespace {

std::string indent(const std::string& text, int spaces) {
  std::string out;
  const std::string pad(static_cast<std::size_t>(spaces), ' ');
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const auto line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) out += pad;
    out += line;
    out += '\n';
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string metadata(const ClusterJobs& j, const ClusterJobOptions& o, const std::string& name) {
  std::string s = "metadata:\n";
  s += fmt::format("  name: {}\n", name);
  if (!o.namespace_name.empty()) s += fmt::format("  namespace: {}\n", yq(o.namespace_name));
  s += "  labels:\n";
  s += "    app.kubernetes.io/name: jouleperf\n";
  s += fmt::format("    jouleperf/study: {}\n", j.name);
  return s;
}

std::string downward_env() {
  std::string s;
  for (const auto& [var, path] : {std::pair{"JOULEPERF_JOB_NAME", "metadata.labels['batch.kubernetes.io/job-name']"},
                                  {"JOULEPERF_POD_NAME", "metadata.name"},
                                  {"JOULEPERF_NODE_NAME", "spec.nodeName"},
                                  {"JOULEPERF_NAMESPACE", "metadata.namespace"}})
    s += fmt::format("- name: {}\n  valueFrom:\n    fieldRef:\n      fieldPath: {}\n", var, yq(path));
  return s;
}

std::string sweep_job(const ClusterJobs& j, const ClusterJobOptions& o, const std::string& claim) {
  const std::string job = j.name + "-sweep";
  std::string s = "apiVersion: batch/v1\nkind: Job\n" + metadata(j, o, job);
  s += "spec:\n";
  s += "  completionMode: Indexed\n";
  s += fmt::format("  completions: {}\n", o.shards);
  s += fmt::format("  parallelism: {}\n", o.concurrency.value_or(o.shards));
  s += "  backoffLimitPerIndex: 1\n";
  s += "  template:\n";
  s += "    metadata:\n      labels:\n        app.kubernetes.io/name: jouleperf\n";
  s += fmt::format("        jouleperf/job: {}\n", job);
  s += "    spec:\n";
  s += "      restartPolicy: Never\n";
  s += "      terminationGracePeriodSeconds: 60\n";
  s += "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n";
  s += fmt::format("          - labelSelector:\n              matchLabels:\n                jouleperf/job: {}\n", job);
  s += "            topologyKey: kubernetes.io/hostname\n";
  s += "      containers:\n";
  s += "      - name: sweep\n";
  s += fmt::format("        image: {}\n", yq(o.image));
  s += "        command: [\"/bin/sh\", \"-c\"]\n";
  s += "        args:\n        - |\n";
  s += indent(shard_shell(o, "/study/study.yaml", "/results", "JOB_COMPLETION_INDEX", "/scratch"), 10);
  s += "        env:\n";
  s += fmt::format("        - name: JOULEPERF_SHARD_COUNT\n          value: \"{}\"\n", o.shards);
  s += indent(downward_env(), 8);
  if (o.gpus_per_task) {
    s += "        resources:\n";
    s += fmt::format("          limits:\n            {}: {}\n", o.gpu_resource, *o.gpus_per_task);
  }
  s += "        volumeMounts:\n";
  for (const auto& [vol, path] : {std::pair{"study", "/study"},
                                  {"results", "/results"},
                                  {"scratch", "/scratch"},
                                  {"node-lock", "/run/jouleperf"}})
    s += fmt::format("        - name: {}\n          mountPath: {}\n", vol, path);
  s += "      volumes:\n";
  s += fmt::format("      - name: study\n        configMap:\n          name: {}-study\n", j.name);
  s += fmt::format("      - name: results\n        persistentVolumeClaim:\n          claimName: {}\n", claim);
  s += "      - name: scratch\n        emptyDir: {}\n";
  s += "      - name: node-lock  # shared by every pod on the node: one meter per node\n";
  s += "        hostPath:\n          path: /run/jouleperf\n          type: DirectoryOrCreate\n";
  return s;
}

std::string merge_job(const ClusterJobs& j, const ClusterJobOptions& o, const std::string& claim) {
  std::string s = "apiVersion: batch/v1\nkind: Job\n" + metadata(j, o, j.name + "-merge");
  s += "spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n";
  s += "      containers:\n      - name: merge\n";
  s += fmt::format("        image: {}\n", yq(o.image));
  s += "        workingDir: /results\n";
  s += fmt::format("        command: [{}, \"merge\", {}", yq(o.program), yq(o.merged_store));
  for (std::uint32_t i = 0; i < o.shards; ++i) s += fmt::format(", \"results-{}.db\"", i);
  s += "]\n";
  s += "        volumeMounts:\n        - name: results\n          mountPath: /results\n";
  s += "      volumes:\n";
  s += fmt::format("      - name: results\n        persistentVolumeClaim:\n          claimName: {}\n", claim);
  return s;
}

}  // namespace

Result<ClusterJobs> k8s_jobs(const ClusterJobOptions& o) {
  if (o.image.empty())
    return make_error(Errc::kInvalidArgument, "--image: the container image holding jouleperf is required");
  auto jobs = prepare(o);
  if (!jobs) return jobs.error();
  auto text = read_text_file(o.study_file);
  if (!text) return text.error();
  const std::string claim = o.results_claim.empty() ? jobs->name + "-results" : dns_name(o.results_claim);
  std::string sweep = fmt::format("# Written by `jouleperf cluster k8s` for study \"{}\" ({} cells, {} shards).\n",
                                  jobs->study_name, jobs->grid_cells, o.shards);
  sweep += fmt::format("# kubectl apply -f {0}.sweep.yaml; when job/{0}-sweep ends: kubectl apply -f {0}.merge.yaml\n",
                       jobs->name);
  sweep += "apiVersion: v1\nkind: ConfigMap\n" + metadata(*jobs, o, jobs->name + "-study");
  sweep += "data:\n  study.yaml: |\n" + indent(*text, 4);
  sweep += "---\n" + sweep_job(*jobs, o, claim);
  std::string merge =
      fmt::format("# Written by `jouleperf cluster k8s`: merges the {} shards of study \"{}\"; it fails,\n", o.shards,
                  jobs->study_name);
  merge += "# naming the missing cells, when a shard did not finish.\n";
  merge += merge_job(*jobs, o, claim);
  jobs->files = {{jobs->name + ".sweep.yaml", std::move(sweep)}, {jobs->name + ".merge.yaml", std::move(merge)}};
  return jobs;
}

namespace {

// The job id from `sbatch --parsable`: "1234" or "1234;cluster".
Result<std::string> job_id(const ProcessOutput& r, const std::string& what) {
  std::string out(trim(r.out));
  if (const auto semi = out.find(';'); semi != std::string::npos) out.resize(semi);
  if (r.exit_code != 0 || out.empty() || !parse_u64(out))
    return make_error(Errc::kIo, fmt::format("sbatch {} failed (exit {}): {}", what, r.exit_code,
                                             std::string(trim(r.err.empty() ? r.out : r.err))));
  return out;
}

}  // namespace

Result<SlurmSubmission> submit_slurm(const ClusterJobs& jobs, const std::string& dir, const std::string& sbatch,
                                     const std::vector<std::uint64_t>& only) {
  if (jobs.files.size() != 2) return make_error(Errc::kInvalidArgument, "submit_slurm: expected the two Slurm scripts");
  SlurmSubmission s;
  std::vector<std::string> argv{sbatch, "--parsable"};
  if (!only.empty()) {
    for (auto i : only) {
      if (!s.array_spec.empty()) s.array_spec += ",";
      s.array_spec += std::to_string(i);
    }
    argv.push_back("--array=" + s.array_spec);
  }
  argv.push_back((std::filesystem::path(dir) / jobs.files[0].name).string());
  auto a = run_process(argv);
  if (!a) return a.error();
  auto id = job_id(*a, jobs.files[0].name);
  if (!id) return id.error();
  s.array_job_id = *id;
  auto m = run_process({sbatch, "--parsable", "--dependency=afterany:" + s.array_job_id,
                        (std::filesystem::path(dir) / jobs.files[1].name).string()});
  if (!m) return m.error();
  auto mid = job_id(*m, jobs.files[1].name);
  if (!mid)
    return make_error(mid.error().code,
                      fmt::format("array job {} submitted, but {}", s.array_job_id, mid.error().message));
  s.merge_job_id = *mid;
  return s;
}

}  // namespace jouleperf::study
