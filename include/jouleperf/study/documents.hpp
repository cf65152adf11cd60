// The study commands' results as output Documents (core/output.hpp): tables of typed rows
// for console, Markdown and CSV, and the JSON the commands print with -o json.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/study/full_validation.hpp"
#include "jouleperf/study/shard_check.hpp"
#include "jouleperf/study/study_run.hpp"
#include "jouleperf/study/sweep.hpp"

namespace jouleperf::study {

// `jouleperf study`: the notes, the estimates (one row per workload and config: Wh per 1000
// requests, corrected, the FLOPs ideal, the saving with its 95 % paired interval, J per
// output token), the validations (main job), where the results and the report are.
// `report_path` "" leaves the report line out.
table::Document study_document(const StudyRunResult& r, const std::string& report_path);

// The rows `jouleperf sweep` writes as each cell is stored: the schema (no rows) and one
// row of a cell (energies per batch in J, the 95 % half-width, duration in s, status).
table::Table sweep_cells_schema();
std::vector<table::Value> sweep_cell_row(const CellResult& c);

// A sweep's ending: what ran, the cells whose interval stayed wide, and every failed cell
// with its reason (reasons in the order of summary.failed; "" where unknown).
struct SweepReport {
  std::string study;  // the study's name
  std::string store;  // the store's path
  SweepSummary summary;
  std::uint32_t max_reps = 0;
  std::optional<double> until_ci_pct;
  std::vector<std::string> failed_reasons;
};
// The summary lines of a sweep (console footer) and its JSON (with `cells`, the rows
// written, as an array of objects).
std::vector<std::string> sweep_summary_lines(const SweepReport& r);
nlohmann::json sweep_json(const SweepReport& r, const table::Table& cells);

// The lines `jouleperf sweep` writes on stderr for its failed cells ("FAILED <cell>: <reason>",
// then how to retry), without the command's prefix; empty when none failed.
std::vector<std::string> sweep_failure_lines(const SweepReport& r);

// A sweep's rows written as each cell is stored (table::RowStream: CSV and JSON Lines at
// once; console and Markdown at finish), or, for JSON, one document at finish (the summary
// and `cells`). `sink` receives the text.
class SweepRowStream {
 public:
  SweepRowStream(table::Format format, std::function<void(std::string_view)> sink);
  // One stored cell's row (sweep_cell_row); written at once for CSV and JSON Lines.
  void add(const CellResult& c);
  // Ends the rows. Returns the summary lines still to be written: for console and Markdown
  // they belong after the rows (`to_sink` true); CSV and JSON Lines hold rows only, so they
  // are for people elsewhere (`to_sink` false); JSON holds them already (none).
  struct Tail {
    std::vector<std::string> lines;
    bool to_sink = false;
  };
  Tail finish(const SweepReport& r);

 private:
  table::Format format_;
  std::function<void(std::string_view)> sink_;
  table::Table table_;
  table::RowStream stream_;
};

// `jouleperf merge`: the stores joined and what the merged store holds.
struct MergeSummary {
  std::vector<std::string> inputs;
  std::string output;
  std::size_t configs = 0;
  std::size_t cells = 0;
  std::optional<StudyCheck> study;  // the merged store's study, when its stores are shards
};
// Merges (merge_stores) and counts the merged store's configs and cells, and checks the
// merged store's study (check_study_stores). Fails as merge_stores fails, or as the
// merged store cannot be read.
Result<MergeSummary> merge_and_count(const std::vector<std::string>& inputs, const std::string& output,
                                     const MergeOptions& options = {});
// The merged store's counts (and study: complete, or what is missing) as header lines,
// the stores as a table, and {inputs, output, configs, cells, study} as JSON.
table::Document merge_document(const MergeSummary& m);

// `jouleperf validate`: the run, each estimate against it, and the paper's error split.
struct SimValidationRun {
  std::string config;    // "<hardware>-<stack>-<model>"
  std::string hardware;  // the profile's name
  std::string workload;  // its name
  std::string trace;     // "embedded:<name>" or the trace path
  std::string order;     // batch order: trace | shuffle
  std::uint64_t requests = 0, bins = 0, excluded = 0;
  FullValidation v;
};
// Energies in J, errors in % of the run; JSON: to_json(r.v), the full_validation artifact.
table::Document sim_validation_document(const SimValidationRun& r);

}  // namespace jouleperf::study
