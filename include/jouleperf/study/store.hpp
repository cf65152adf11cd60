// The results store: one SQLite file holding a study's configurations, its finished
// cells and the documents computed from them (estimates, replays, validations, power
// traces). Every write is one transaction committed before the call returns
// (journal_mode=WAL, synchronous=FULL), so a process killed at any instant leaves every
// cell it reported as stored, and no half-written cell.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/study/cell.hpp"

namespace jouleperf::study {

// A document stored beside the cells: kind "estimate", "replay", "validation",
// "power-trace", "study"...; name unique within its kind.
struct Artifact {
  std::string kind;
  std::string name;
  nlohmann::json body;
  double stored_unix_s = 0.0;
};

class Store {
 public:
  // Opens or creates the store at `path` (parent directory must exist). kIo / kPermissionDenied
  // when the file cannot be opened or written, kParse when it is not a jouleperf store
  // (another SQLite file, or a newer schema version).
  static Result<Store> open(const std::string& path);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const;

  // Records a configuration. Fails (kInvalidArgument) when a config of the same name is
  // stored with another Config::key() — a changed study cannot resume into an old store.
  Status put_config(const Config& config);
  Result<std::vector<Config>> configs() const;

  // Stores a finished (or skipped) cell durably; replaces a cell with the same key.
  Status put_cell(const CellResult& cell);
  Result<std::optional<CellResult>> cell(const CellKey& key) const;
  // Every cell, ordered by key.
  Result<std::vector<CellResult>> cells() const;

  // Stores a document durably; replaces the same (kind, name).
  Status put_artifact(const Artifact& artifact);
  // Documents of one kind ("" = all), ordered by kind then name.
  Result<std::vector<Artifact>> artifacts(const std::string& kind = "") const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Joins stores (e.g. the shards of one sweep) into `output` (created if absent). The same
// config name with different keys, or the same cell measured in two inputs with different
// results, fails with kInvalidArgument naming them; identical duplicates are kept once.
// Artifacts are copied; the same (kind, name) twice with different bodies is an error.
Status merge_stores(const std::vector<std::string>& inputs, const std::string& output);

}  // namespace jouleperf::study
