// Is a sharded study complete? (docs/cluster.md, "Merging a study"). Reads the shard
// records (shard_record.hpp) and the cells of a set of stores — the shards' stores, some
// perhaps absent — and says, shard by shard, which cells of the study's grid no store
// holds as done or skipped, and which array indices to resubmit. `merge` refuses an
// incomplete study (nothing merged); `jouleperf cluster missing` prints the same check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/output.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/study/shard_record.hpp"

namespace jouleperf::study {

struct ShardState {
  Shard shard;
  std::string state;                // "finished", "unfinished" (started, never ended well) or "absent" (no record)
  std::vector<std::string> stores;  // the stores holding its record
  std::string host;                 // where it last ran ("" when absent)
  std::uint64_t cells = 0;          // cells of the shard in the grid
  std::vector<CellKey> missing;     // its cells no store holds as done or skipped, in grid order
  std::optional<std::uint64_t> array_index;  // the scheduler's array index to resubmit (Slurm: MIN + i * STEP)
};

struct StudyCheck {
  std::string study_name;
  std::string study_hash;
  std::uint32_t shards = 0;
  std::uint64_t grid_cells = 0;
  std::vector<ShardState> states;          // one per shard, by index
  std::vector<std::string> absent_stores;  // inputs that do not exist
  // True when every grid cell is stored (done or skipped) and every shard has a record.
  bool complete() const;
  // The array indices of the shards that are not finished or miss cells.
  std::vector<std::uint64_t> indices_to_resubmit() const;
};

// Reads each store at `paths` (read-only; an absent file is listed in absent_stores) and
// checks the study their shard records name. nullopt when no store holds a shard record
// (stores from `study`, `estimate`, or a jouleperf older than the records). Fails with
// kInvalidArgument when the records name more than one study ("stores of different
// studies: ...") or disagree on the number of shards, kParse for a malformed record, and
// as Store::open fails for a file that exists but is not a store.
Result<std::optional<StudyCheck>> check_study_stores(const std::vector<std::string>& paths);

// What is missing, one line per shard that is not complete, at most `max_cells` cells
// named per shard ("shard 2/4 (absent: no store holds its record): 6 of 6 cells
// missing: a I=128 O=32 B=1, ..."), and the array indices to resubmit. Empty when complete.
std::vector<std::string> describe_missing(const StudyCheck& check, std::size_t max_cells = 8);

// A study check as JSON: {study, study_hash, shards, cells, complete, resubmit, states
// [{shard, state, host, stores, cells, missing, array_index}], absent_stores}.
nlohmann::json study_check_json(const StudyCheck& c);
// `jouleperf cluster missing`: a header (complete, or describe_missing), a table of the
// shards (shard, state, host, cells, missing_cells, array_index, stores) and the JSON above.
table::Document study_check_document(const StudyCheck& c);

}  // namespace jouleperf::study
