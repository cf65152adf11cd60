// The results store: one SQLite file holding a study's configurations, its finished
// cells and the documents computed from them (estimates, replays, validations, power
// traces). Every write is one transaction committed before the call returns
// (journal_mode=WAL, synchronous=FULL), so a process killed at any instant leaves every
// cell it reported as stored, and no half-written cell.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::study {

// A document stored beside the cells: kind "estimate", "replay", "validation",
// "power-trace", "study"...; name unique within its kind.
struct Artifact {
  std::string kind;
  std::string name;
  nlohmann::json body;
  double stored_unix_s = 0.0;
};

// One measured run of online load (jouleperf replay), stored with its requests. Never
// holds a secret: API keys stay out of every field.
struct RunRecord {
  std::string run_id;           // unique within the store (e.g. "replay-20250101T120000-1a2b3c")
  std::string kind;             // "replay", "rate-sweep"
  std::string engine;           // "openai", "llamacpp"
  std::string target;           // server URL or model path
  std::string model;            // served model name or GGUF path ("" when not given)
  double started_unix_s = 0.0;  // wall-clock start of the run
  nlohmann::json info;          // settings, per-phase summaries and energy (any JSON object)
};

// One request of a run. Times are seconds from the run's origin (the first phase's
// schedule origin), on the run's monotonic clock.
struct RequestRecord {
  std::uint64_t index = 0;  // position in the run's schedule, over all phases
  std::string phase;        // "replay", "rate-2", ...
  double scheduled_s = 0.0;
  double send_s = 0.0;
  double lateness_s = 0.0;  // send_s - scheduled_s
  double end_s = 0.0;
  std::uint64_t input_tokens_asked = 0;
  std::uint64_t output_tokens_asked = 0;
  std::uint64_t output_tokens = 0;  // counted from the stream
  std::optional<std::uint64_t> usage_prompt_tokens;
  std::optional<std::uint64_t> usage_completion_tokens;
  std::optional<double> ttft_s;  // none when no token arrived
  std::vector<double> token_s;   // arrival of every token, from the run's origin
  bool ok = false;
  std::string error;  // the failure reason ("" when ok)
  long http_status = 0;
  std::string finish_reason;
  std::string mismatch;  // "" when the counts agree with what was asked
  // The run's energy attributed to it (engine/attribution.hpp; docs/serving.md, "Energy per
  // request"), J: energy_j = prefill_j + decode_j + idle_j; above_idle_j with an idle
  // baseline. Unset when the run was not attributed (older stores, --offline-compare).
  std::optional<double> energy_j, prefill_j, decode_j, idle_j, above_idle_j;
  std::string attribution;  // how: "black-box; <cost model>; idle policy none" ("" when unset)
  bool operator==(const RequestRecord&) const = default;
};

// How a store is opened: a writer (sweep, study, merge output, estimate --save) or a
// reader (report, estimate, optimize, calibrate, merge inputs).
enum class StoreMode { kReadWrite, kReadOnly };

class Store {
 public:
  // Opens the store at `path`. Nothing that is not a jouleperf store is ever modified:
  // a file that is neither absent, empty (0 bytes) nor a jouleperf store is refused with
  // kParse (another SQLite database, random bytes, a newer schema version).
  //
  // kReadWrite: creates the store when the file is absent or empty (parent directory must
  // exist) and takes the exclusive writer lock "<path>.lock" for the Store's lifetime; a
  // second writer (another process, or another Store in this one) gets kTimeout naming the
  // holder's pid instead of writing beside it. kIo / kPermissionDenied when the file or the
  // lock cannot be opened or written.
  //
  // kReadOnly: never writes (no pragma, no schema, no lock): SQLite's mode=ro, so it reads
  // beside a running writer; in a read-only directory (where SQLite cannot create the WAL's
  // -shm file) the file is read as immutable, which is safe because nobody can write there,
  // and refused when a killed writer's non-empty -wal file would be skipped. kNotFound for
  // an absent file, kParse for an empty one. Every put_* on a reader fails
  // (kPermissionDenied).
  static Result<Store> open(const std::string& path, StoreMode mode = StoreMode::kReadWrite);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const;
  bool read_only() const;

  // Records a configuration. Fails (kInvalidArgument) when a config of the same name is
  // stored with another Config::key() — a changed study cannot resume into an old store.
  // A stored config whose model path names the same file as config.model (a relative path
  // from an older store, resolved from the working directory or the store's directory)
  // is the same config: it and its cells' config_key are rewritten to config's key.
  // URL credentials ("user:password@") in any stored string are redacted, here and in
  // every other put_*.
  Status put_config(const Config& config);
  Result<std::vector<Config>> configs() const;

  // Stores a finished (or skipped) cell durably; replaces a cell with the same key.
  Status put_cell(const CellResult& cell);
  Result<std::optional<CellResult>> cell(const CellKey& key) const;
  // Every cell, ordered by key.
  Result<std::vector<CellResult>> cells() const;

  // A cell still being measured (rep-major sweeps store each repetition as it ends): the
  // repetitions so far, durably, so a resumed sweep never repeats a finished repetition.
  // put_cell of the same key removes it in the same transaction.
  Status put_progress(const CellResult& partial);
  // The progress of a cell not yet stored, if any.
  Result<std::optional<CellResult>> progress(const CellKey& key) const;

  // Stores a document durably; replaces the same (kind, name).
  Status put_artifact(const Artifact& artifact);
  // Removes the document (kind, name) durably. Removing one that is not stored succeeds
  // and changes nothing. kInvalidArgument for an empty kind or name; kPermissionDenied on
  // a reader; kIo (or the SQLite error's code) when the store cannot be written.
  Status remove_artifact(const std::string& kind, const std::string& name);
  // Documents of one kind ("" = all), ordered by kind then name.
  Result<std::vector<Artifact>> artifacts(const std::string& kind = "") const;

  // Stores a run and every one of its requests in one transaction; replaces a run with
  // the same run_id (and all its requests). kInvalidArgument for an empty run_id/kind.
  Status put_run(const RunRecord& run, const std::vector<RequestRecord>& requests);
  // Every run, ordered by started_unix_s then run_id.
  Result<std::vector<RunRecord>> runs() const;
  // The requests of one run, ordered by index (empty for an unknown run_id).
  Result<std::vector<RequestRecord>> requests(const std::string& run_id) const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct MergeOptions {
  // Merge the shards that are there even when the study is incomplete (the missing cells
  // are still named by `jouleperf cluster missing`); absent input stores are skipped.
  bool allow_incomplete = false;
};

// Joins stores (e.g. the shards of one sweep) into `output` (created if absent). The same
// config name with different keys, or the same cell measured in two inputs with different
// results, fails with kInvalidArgument naming them; identical duplicates are kept once.
// Artifacts are copied; the same (kind, name) twice with different bodies is an error,
// except shard records (study/shard_record.hpp), of which the newer is kept.
// Runs are copied with their requests; the same run_id twice with different content is an error.
// Stores that carry shard records are a study's shards (study/shard_check.hpp): records
// of two studies, or of two splits, fail with kInvalidArgument; a study with a shard
// absent, unfinished or missing cells fails with kNotFound naming, per shard, the missing
// cells and the array indices to resubmit, unless options.allow_incomplete. Every check
// runs before the output is opened: a refused merge writes nothing. An absent input store
// is kNotFound (skipped with allow_incomplete when the others carry shard records).
Status merge_stores(const std::vector<std::string>& inputs, const std::string& output,
                    const MergeOptions& options = {});

}  // namespace jouleperf::study
