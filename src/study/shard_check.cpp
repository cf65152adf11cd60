#include "jouleperf/study/shard_check.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

namespace jouleperf::study {

namespace {

struct Found {
  std::string path;
  ShardRecord record;
};

// Slurm's array index of shard i: MIN + i * STEP as the task that ran it saw them; the
// index itself for a Kubernetes Indexed Job.
std::optional<std::uint64_t> array_index(const nlohmann::json& scheduler, std::uint32_t shard) {
  if (!scheduler.is_object()) return std::nullopt;
  const std::string kind = scheduler.value("kind", "");
  if (kind == "kubernetes") return shard;
  if (kind != "slurm") return std::nullopt;
  try {
    const std::uint64_t min = std::stoull(scheduler.value("array_task_min", "0"));
    const std::uint64_t step = std::stoull(scheduler.value("array_task_step", "1"));
    return min + shard * step;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Status one_study(const std::vector<Found>& found) {
  const Found& first = found.front();
  for (const auto& f : found) {
    if (f.record.study_hash != first.record.study_hash)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("stores of different studies: {} holds study \"{}\" ({}) and {} holds study "
                                    "\"{}\" ({}); merge the shards of one study at a time",
                                    first.path, first.record.study_name, first.record.study_hash, f.path,
                                    f.record.study_name, f.record.study_hash));
    if (f.record.shard.count != first.record.shard.count)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("the stores split study \"{}\" in different numbers of shards: {} holds shard "
                                    "{}/{} and {} holds shard {}/{}",
                                    first.record.study_name, first.path, first.record.shard.index,
                                    first.record.shard.count, f.path, f.record.shard.index, f.record.shard.count));
  }
  return {};
}

StudyCheck assemble(const std::vector<Found>& found, const std::set<CellKey>& stored) {
  const ShardRecord& any = found.front().record;
  StudyCheck c{any.study_name, any.study_hash, any.shard.count, 0, {}, {}};
  const auto grid = outline_cells(any.grid);
  c.grid_cells = grid.size();
  nlohmann::json slurm_like;  // a record's scheduler, for the array index of absent shards
  for (const auto& f : found)
    if (f.record.scheduler.contains("kind")) slurm_like = f.record.scheduler;
  for (std::uint32_t i = 0; i < c.shards; ++i) {
    ShardState s;
    s.shard = Shard{i, c.shards};
    const ShardRecord* best = nullptr;
    for (const auto& f : found) {
      if (f.record.shard.index != i) continue;
      s.stores.push_back(f.path);
      best = best ? &newer_record(*best, f.record) : &f.record;
    }
    s.state = best == nullptr ? "absent" : best->finished ? "finished" : "unfinished";
    if (best != nullptr) s.host = best->host;
    s.array_index = array_index(best != nullptr ? best->scheduler : slurm_like, i);
    for (std::size_t p = i; p < grid.size(); p += c.shards) {
      ++s.cells;
      if (!stored.count(grid[p])) s.missing.push_back(grid[p]);
    }
    c.states.push_back(std::move(s));
  }
  return c;
}

}  // namespace

bool StudyCheck::complete() const {
  for (const auto& s : states)
    if (s.state == "absent" || !s.missing.empty()) return false;
  return true;
}

std::vector<std::uint64_t> StudyCheck::indices_to_resubmit() const {
  std::vector<std::uint64_t> out;
  for (const auto& s : states)
    if (s.state == "absent" || !s.missing.empty()) out.push_back(s.array_index.value_or(s.shard.index));
  return out;
}

Result<std::optional<StudyCheck>> check_study_stores(const std::vector<std::string>& paths) {
  std::vector<Found> found;
  std::set<CellKey> stored;
  std::vector<std::string> absent;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      absent.push_back(path);
      continue;
    }
    auto store = Store::open(path, StoreMode::kReadOnly);
    if (!store) return store.error();
    auto records = shard_records(*store);
    if (!records) return records.error();
    for (auto& r : *records) found.push_back({path, std::move(r)});
    auto cells = store->cells();
    if (!cells) return cells.error();
    for (const auto& cell : *cells)
      if (cell.status != CellStatus::kFailed) stored.insert(cell.key);
  }
  if (found.empty()) return std::optional<StudyCheck>{};
  if (auto st = one_study(found); !st) return st.error();
  StudyCheck c = assemble(found, stored);
  c.absent_stores = std::move(absent);
  return std::optional<StudyCheck>(std::move(c));
}

std::vector<std::string> describe_missing(const StudyCheck& c, std::size_t max_cells) {
  std::vector<std::string> out;
  for (const auto& s : c.states) {
    if (s.state != "absent" && s.missing.empty()) continue;
    std::string cells;
    for (std::size_t k = 0; k < s.missing.size() && k < max_cells; ++k) {
      if (k > 0) cells += ", ";
      cells += to_string(s.missing[k]);
    }
    if (s.missing.size() > max_cells) cells += fmt::format(", and {} more", s.missing.size() - max_cells);
    const std::string where = s.state == "absent"       ? "absent: no store holds its record"
                              : s.state == "unfinished" ? fmt::format("unfinished, on {}", s.host)
                                                        : fmt::format("finished, on {}", s.host);
    out.push_back(fmt::format("shard {}/{} ({}): {} of {} cells missing{}{}", s.shard.index, s.shard.count, where,
                              s.missing.size(), s.cells, s.missing.empty() ? "" : ": ", cells));
  }
  if (out.empty()) return out;
  for (const auto& a : c.absent_stores) out.push_back(fmt::format("no store at {}", a));
  std::string indices;
  for (auto i : c.indices_to_resubmit()) {
    if (!indices.empty()) indices += ",";
    indices += std::to_string(i);
  }
  out.push_back(fmt::format("resubmit array indices {} (sbatch --array={} ...), then merge again", indices, indices));
  return out;
}

}  // namespace jouleperf::study
