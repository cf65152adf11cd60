// A shard's record in its own store (docs/cluster.md, "Merging a study"): which study it
// belongs to (a fingerprint of everything that decides what its cells measure), which
// shard of how many, the study's grid in outline (so that a merge can name the cells of a
// shard whose store never appeared), whether the shard finished, and where it ran (host,
// scheduler job and array ids). `sweep` writes it as the artifact kind "shard" before its
// first cell and again when it ends; `merge` and `cluster missing` read it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::study {

// The grid without the settings: each config's name and batch sizes, and the I and O
// axes. Its cells, in expand_grid's order (config-major, then I, O, B), are the study's.
struct GridOutline {
  struct ConfigAxis {
    std::string name;
    std::vector<std::uint64_t> batch_sizes;  // the study's, or the config's own "batches"
  };
  std::vector<ConfigAxis> configs;
  std::vector<std::uint64_t> input_tokens, output_tokens;
};
GridOutline grid_outline(const Study& study);
// Every cell of the outline, in grid order (position p is the p-th key).
std::vector<CellKey> outline_cells(const GridOutline& outline);

// 16 hex digits of a 64-bit FNV-1a hash over every config's key and the grid's axes,
// warm-up, repetitions, idle gap, seed, order and adaptive-repetition settings: two stores
// with the same fingerprint measured the same study. The study's name is not part of it.
// Not a security hash. Never fails.
std::string study_fingerprint(const Study& study);

struct ShardRecord {
  std::string study_name;
  std::string study_hash;  // study_fingerprint
  Shard shard;
  GridOutline grid;
  std::uint64_t cells = 0;         // cells of this shard
  bool finished = false;           // the sweep ended with every cell of the shard stored, none failed
  std::uint64_t failed_cells = 0;  // stored as failed when it ended
  double started_unix_s = 0.0;
  std::optional<double> ended_unix_s;
  std::string host;                                     // hostname of the node
  nlohmann::json scheduler = nlohmann::json::object();  // scheduler_provenance(); {} outside one
};

// The record of a shard about to run (finished = false, started now).
ShardRecord begin_shard_record(const Study& study, Shard shard, std::uint64_t shard_cells, std::string host,
                               nlohmann::json scheduler, double now_unix_s);

// The artifact kind "shard", named "<study_hash>:<i>/<n>", and back. from_json fails with
// kParse naming the missing or mistyped field.
Artifact shard_artifact(const ShardRecord& r);
nlohmann::json to_json(const ShardRecord& r);
Result<ShardRecord> shard_record_from_json(const nlohmann::json& j);

// Every shard record in `store`. kParse naming the artifact when one is malformed; as
// Store::artifacts fails otherwise.
Result<std::vector<ShardRecord>> shard_records(const Store& store);

// Of two records of the same shard (e.g. from the output of an earlier partial merge and
// a resubmitted task's store), the one that says most: finished over unfinished, then
// the later end (or start). Never fails.
const ShardRecord& newer_record(const ShardRecord& a, const ShardRecord& b);

}  // namespace jouleperf::study
