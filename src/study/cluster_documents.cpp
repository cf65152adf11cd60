// The documents of `jouleperf cluster`: the jobs written (or submitted) and the study check.
#include <fmt/format.h>

#include <filesystem>

#include "jouleperf/study/cluster_jobs.hpp"
#include "jouleperf/study/shard_check.hpp"

namespace jouleperf::study {

nlohmann::json study_check_json(const StudyCheck& c) {
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& s : c.states) {
    nlohmann::json missing = nlohmann::json::array();
    for (const auto& k : s.missing) missing.push_back(to_string(k));
    shards.push_back({{"shard", s.shard.index},
                      {"state", s.state},
                      {"host", s.host},
                      {"stores", s.stores},
                      {"cells", s.cells},
                      {"missing", missing},
                      {"array_index", s.array_index ? nlohmann::json(*s.array_index) : nlohmann::json()}});
  }
  return {{"study", c.study_name}, {"study_hash", c.study_hash},      {"shards", c.shards},
          {"cells", c.grid_cells}, {"complete", c.complete()},        {"resubmit", c.indices_to_resubmit()},
          {"states", shards},      {"absent_stores", c.absent_stores}};
}

table::Document study_check_document(const StudyCheck& c) {
  table::Document d;
  d.header = {fmt::format("study \"{}\" ({}): {} shards, {} cells: {}", c.study_name, c.study_hash, c.shards,
                          c.grid_cells, c.complete() ? "complete" : "INCOMPLETE")};
  for (const auto& line : describe_missing(c)) d.header.push_back("  " + line);
  table::Table t{"shards",
                 "Shards",
                 {{"shard", "index of the study's shards"},
                  {"state", "finished | unfinished (started, not ended well) | absent (no store holds its record)"},
                  {"host", "where it last ran"},
                  {"cells", "cells of the shard"},
                  {"missing_cells", "cells no store holds as done or skipped"},
                  {"array_index", "the scheduler's array index to resubmit"},
                  {"stores", "stores holding its record"}},
                 {}};
  for (const auto& s : c.states) {
    std::string stores;
    for (const auto& p : s.stores) {
      if (!stores.empty()) stores += " ";
      stores += p;
    }
    t.rows.push_back({static_cast<std::int64_t>(s.shard.index), s.state, s.host, static_cast<std::int64_t>(s.cells),
                      static_cast<std::int64_t>(s.missing.size()),
                      s.array_index ? table::Value(static_cast<std::int64_t>(*s.array_index)) : table::Value(),
                      stores});
  }
  d.tables.push_back(std::move(t));
  d.json = study_check_json(c);
  return d;
}

table::Document cluster_jobs_document(const ClusterJobs& jobs, std::uint32_t shards, const std::string& dir,
                                      const std::string& scheduler, const std::optional<SlurmSubmission>& submitted) {
  table::Document d;
  d.header = {fmt::format("study \"{}\" ({} cells) as {} shards: job {}, stores in {}", jobs.study_name,
                          jobs.grid_cells, shards, jobs.name, jobs.results_dir)};
  table::Table t{"files", "Job files written", {{"file", ""}, {"what", ""}}, {}};
  nlohmann::json files = nlohmann::json::array();
  for (std::size_t i = 0; i < jobs.files.size(); ++i) {
    const std::string path = (std::filesystem::path(dir) / jobs.files[i].name).string();
    t.rows.push_back({path, std::string(i == 0 ? "the shards (one array task / indexed pod each)" : "the merge")});
    files.push_back(path);
  }
  d.tables.push_back(std::move(t));
  for (const auto& w : jobs.warnings) d.footer.push_back("note: " + w);
  d.json = {{"name", jobs.name}, {"study", jobs.study_name}, {"cells", jobs.grid_cells},
            {"shards", shards},  {"scheduler", scheduler},   {"results_dir", jobs.results_dir},
            {"files", files},    {"warnings", jobs.warnings}};
  if (submitted) {
    d.header.push_back(fmt::format(
        "submitted: array job {}{}, merge job {} (after the array ends: afterany)", submitted->array_job_id,
        submitted->array_spec.empty() ? "" : " (indices " + submitted->array_spec + ")", submitted->merge_job_id));
    d.json["array_job_id"] = submitted->array_job_id;
    d.json["merge_job_id"] = submitted->merge_job_id;
    d.json["array"] = submitted->array_spec;
  } else if (scheduler == "slurm" && jobs.files.size() == 2) {
    d.header.push_back(
        fmt::format("submit: jid=$(sbatch --parsable {0}/{1}) && sbatch --dependency=afterany:$jid "
                    "{0}/{2}   (or jouleperf cluster slurm ... --submit)",
                    dir, jobs.files[0].name, jobs.files[1].name));
  } else if (jobs.files.size() == 2) {
    d.header.push_back(fmt::format("run: kubectl apply -f {0}/{1}; when the sweep Job ends: kubectl apply -f {0}/{2}",
                                   dir, jobs.files[0].name, jobs.files[1].name));
  }
  return d;
}

}  // namespace jouleperf::study
