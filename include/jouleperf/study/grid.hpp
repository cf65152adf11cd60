// A study's definition (configurations x input lengths x output lengths x batch sizes,
// warm-up, repetitions, idle gap), read from a YAML study file or built from flags, and
// its expansion into an ordered list of cells, with `--shard i/n` selection.
// The file format is documented in docs/study.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::study {

// How many unmeasured batches run before a cell's repetitions. Unless `fixed` is set:
//   warmup = min(max_batches, max(1, floor(budget_tokens / (B * (I + O)))))
// so small cells get up to 20 (as the paper), large cells fewer, never none.
struct WarmupPolicy {
  std::uint32_t max_batches = 20;
  std::uint64_t budget_tokens = 65536;  // tokens (B * (I + O) per batch) to spend warming up
  std::optional<std::uint32_t> fixed;   // exactly this many (0 allowed) for every cell
};

// Warm-up batches for one cell under `policy`.
std::uint32_t warmup_batches(const WarmupPolicy& policy, const CellKey& cell);

// The order in which a sweep runs its repetitions (docs/study.md, "Run order").
enum class RunOrder {
  kRepMajor,   // round r runs repetition r of every cell, cells alternating (serpentine:
               // even rounds forward, odd rounds backward), so a drift of the machine over
               // minutes spreads over all cells and paired configurations alternate
  kCellMajor,  // every repetition of a cell, then the next cell
};
std::string_view run_order_name(RunOrder o);  // "rep-major", "cell-major"
// "rep-major" | "cell-major"; kInvalidArgument otherwise.
Result<RunOrder> parse_run_order(std::string_view text);

struct Study {
  std::string name = "study";
  std::vector<Config> configs;               // names unique
  std::vector<std::uint64_t> input_tokens;   // I values, tokens (>= 1)
  std::vector<std::uint64_t> output_tokens;  // O values, tokens (>= 1)
  std::vector<std::uint64_t> batch_sizes;    // B values (>= 1)
  WarmupPolicy warmup;
  std::uint32_t repetitions = 3;  // measured batches per cell (>= 1)
  double idle_gap_s = 0.0;        // cool-down between cells, s (>= 0)
  std::uint64_t seed = 1;         // prompt tokens of repetition r use seed + r
  RunOrder order = RunOrder::kRepMajor;
  // Adaptive repetitions: after `repetitions`, a cell gets more (one per round) until the
  // half-width of the 95 % interval of its energy per batch is below this percentage of the
  // mean, or it has max_reps (then the cell says the target was not met). nullopt = off.
  std::optional<double> until_ci_pct;
  std::uint32_t max_reps = 20;  // cap with until_ci_pct (>= repetitions)
  // A file of published steady-state serving measurements (docs/fidelity.md): the study
  // compares the simulator with it and the report shows the comparison ("" = none). In a
  // study file, relative to the file.
  std::string measurements;
};

// The most cells a grid may have when the caller names no limit (--max-cells): a quarter
// of this machine's physical memory at 4 KiB a cell (its key, its result with the
// repetitions, its store row), clamped to [100 000, 100 000 000]; 1 000 000 when the
// memory size cannot be read. docs/study.md, "Limits".
std::uint64_t default_max_cells();

// The cells of the grid: the sum over configs of I x O x B (a config's own "batches"
// setting replacing B), saturating at UINT64_MAX. Allocates nothing.
std::uint64_t grid_cell_count(const Study& study);

// kInvalidArgument "the grid has N cells (...), more than --max-cells M" when
// grid_cell_count(study) > max_cells; checked before anything is expanded or run.
Status check_grid_size(const Study& study, std::uint64_t max_cells);

// Checks the study: at least one config and one value per axis, values >= 1, config names
// non-empty and unique, known engines (llamacpp, sim, openai), strategies and batching
// modes the engine layer parses, repetitions >= 1, idle gap >= 0, at most `max_cells`
// cells (check_grid_size). kInvalidArgument naming the config or field. Also sorts every
// config's settings.
Status validate_study(Study& study, std::uint64_t max_cells = default_max_cells());

// Reads a YAML study file (docs/study.md). Errors name the file, the line and the field:
// kNotFound / kPermissionDenied / kIo reading it, kParse for bad YAML, a key given twice
// in one mapping, an unknown key or a value of the wrong type, kInvalidArgument as
// validate_study fails (a grid of more than `max_cells` cells among them). Top-level keys
// listed in `other_sections` are accepted and ignored (sections other commands read).
Result<Study> load_study_file(const std::string& path, const std::vector<std::string>& other_sections = {},
                              std::uint64_t max_cells = default_max_cells());
// The same from text; `source` names it in errors.
Result<Study> parse_study_yaml(const std::string& text, const std::string& source,
                               const std::vector<std::string>& other_sections = {},
                               std::uint64_t max_cells = default_max_cells());

// "128,512,2048" -> {128, 512, 2048}; "32..8192" -> powers of two from 32 to 8192.
// kInvalidArgument naming `what` for an empty list, a zero or a malformed number.
Result<std::vector<std::uint64_t>> parse_size_list(std::string_view text, std::string_view what);

// One cell of the grid: its key and the index of its config in Study::configs.
struct GridCell {
  CellKey key;
  std::size_t config_index = 0;
  std::size_t position = 0;  // in the whole grid (before sharding)
};

// Every cell, config-major, then I, O and B as listed: configs x I x O x B, where a
// config with the setting "batches" (a size list) runs at those batch sizes instead of
// the study's. Allocates grid_cell_count(study) cells: check_grid_size first (a study
// from load_study_file / validate_study has been).
std::vector<GridCell> expand_grid(const Study& study);

// Shard `index` of `count` (0 <= index < count): the cells whose grid position p has
// p % count == index. The shards of one study are disjoint and together are the grid.
struct Shard {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
};
// "i/n" with 0 <= i < n; kInvalidArgument otherwise.
Result<Shard> parse_shard(std::string_view text);
std::vector<GridCell> select_shard(const std::vector<GridCell>& cells, Shard shard);

}  // namespace jouleperf::study
